//! The fixed catalogue: locations, server and load balancer types, images and pricing.
use super::*;

pub(super) struct Loc {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    pub(super) country: &'static str,
    pub(super) city: &'static str,
    pub(super) lat: f64,
    pub(super) lon: f64,
    pub(super) zone: &'static str,
    pub(super) dc: &'static str,
    /// Price factor against Germany/Finland.
    pub(super) factor: f64,
    /// Included traffic per server in TB.
    pub(super) traffic_tb: u64,
}

#[rustfmt::skip]
pub(super) const LOCATIONS: &[Loc] = &[
    Loc { id: 1, name: "fsn1", description: "Falkenstein DC Park 1", country: "DE", city: "Falkenstein", lat: 50.47612, lon: 12.370071, zone: "eu-central", dc: "fsn1-dc14", factor: 1.0, traffic_tb: 20 },
    Loc { id: 2, name: "nbg1", description: "Nuremberg DC Park 1", country: "DE", city: "Nuremberg", lat: 49.452102, lon: 11.076665, zone: "eu-central", dc: "nbg1-dc3", factor: 1.0, traffic_tb: 20 },
    Loc { id: 3, name: "hel1", description: "Helsinki DC Park 1", country: "FI", city: "Helsinki", lat: 60.169855, lon: 24.938379, zone: "eu-central", dc: "hel1-dc2", factor: 1.0, traffic_tb: 20 },
    Loc { id: 4, name: "ash", description: "Ashburn, VA", country: "US", city: "Ashburn, VA", lat: 39.045821, lon: -77.487073, zone: "us-east", dc: "ash-dc1", factor: 1.2, traffic_tb: 1 },
    Loc { id: 5, name: "hil", description: "Hillsboro, OR", country: "US", city: "Hillsboro, OR", lat: 45.54222, lon: -122.951924, zone: "us-west", dc: "hil-dc1", factor: 1.2, traffic_tb: 1 },
    Loc { id: 6, name: "sin", description: "Singapore", country: "SG", city: "Singapore", lat: 1.283333, lon: 103.833333, zone: "ap-southeast", dc: "sin-dc1", factor: 1.35, traffic_tb: 1 },
];

pub(super) const EU: &[&str] = &["fsn1", "nbg1", "hel1"];
pub(super) const ALL_LOCS: &[&str] = &["fsn1", "nbg1", "hel1", "ash", "hil", "sin"];

pub(super) struct SType {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) cores: u32,
    pub(super) memory: f64,
    pub(super) disk: u64,
    pub(super) cpu: &'static str,
    pub(super) arch: &'static str,
    pub(super) category: &'static str,
    /// Monthly net EUR in Germany.
    pub(super) monthly: f64,
    pub(super) locations: &'static [&'static str],
}

#[rustfmt::skip]
pub(super) const SERVER_TYPES: &[SType] = &[
    // The current generation (cx23-53, cpx22-62); cx22-52 and cpx11-51 were withdrawn at the end of 2025.
    SType { id: 108, name: "cx23", cores: 2, memory: 4.0, disk: 40, cpu: "shared", arch: "x86", category: "cost_optimized", monthly: 3.99, locations: EU },
    SType { id: 109, name: "cx33", cores: 4, memory: 8.0, disk: 80, cpu: "shared", arch: "x86", category: "cost_optimized", monthly: 6.49, locations: EU },
    SType { id: 110, name: "cx43", cores: 8, memory: 16.0, disk: 160, cpu: "shared", arch: "x86", category: "cost_optimized", monthly: 11.99, locations: EU },
    SType { id: 111, name: "cx53", cores: 16, memory: 32.0, disk: 320, cpu: "shared", arch: "x86", category: "cost_optimized", monthly: 22.49, locations: EU },
    SType { id: 112, name: "cpx22", cores: 2, memory: 4.0, disk: 80, cpu: "shared", arch: "x86", category: "regular_purpose", monthly: 7.99, locations: ALL_LOCS },
    SType { id: 113, name: "cpx32", cores: 4, memory: 8.0, disk: 160, cpu: "shared", arch: "x86", category: "regular_purpose", monthly: 14.49, locations: ALL_LOCS },
    SType { id: 114, name: "cpx42", cores: 8, memory: 16.0, disk: 320, cpu: "shared", arch: "x86", category: "regular_purpose", monthly: 25.49, locations: ALL_LOCS },
    SType { id: 115, name: "cpx52", cores: 12, memory: 24.0, disk: 480, cpu: "shared", arch: "x86", category: "regular_purpose", monthly: 36.49, locations: ALL_LOCS },
    SType { id: 116, name: "cpx62", cores: 16, memory: 32.0, disk: 640, cpu: "shared", arch: "x86", category: "regular_purpose", monthly: 50.49, locations: EU },
    SType { id: 45, name: "cax11", cores: 2, memory: 4.0, disk: 40, cpu: "shared", arch: "arm", category: "cost_optimized", monthly: 4.49, locations: EU },
    SType { id: 93, name: "cax21", cores: 4, memory: 8.0, disk: 80, cpu: "shared", arch: "arm", category: "cost_optimized", monthly: 7.99, locations: EU },
    SType { id: 94, name: "cax31", cores: 8, memory: 16.0, disk: 160, cpu: "shared", arch: "arm", category: "cost_optimized", monthly: 15.99, locations: EU },
    SType { id: 95, name: "cax41", cores: 16, memory: 32.0, disk: 320, cpu: "shared", arch: "arm", category: "cost_optimized", monthly: 31.49, locations: EU },
    SType { id: 96, name: "ccx13", cores: 2, memory: 8.0, disk: 80, cpu: "dedicated", arch: "x86", category: "general_purpose", monthly: 15.99, locations: ALL_LOCS },
    SType { id: 97, name: "ccx23", cores: 4, memory: 16.0, disk: 160, cpu: "dedicated", arch: "x86", category: "general_purpose", monthly: 31.49, locations: ALL_LOCS },
    SType { id: 98, name: "ccx33", cores: 8, memory: 32.0, disk: 240, cpu: "dedicated", arch: "x86", category: "general_purpose", monthly: 62.49, locations: ALL_LOCS },
];

pub(super) struct LbType {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) conns: u64,
    pub(super) services: u32,
    pub(super) targets: u32,
    pub(super) certs: u32,
    pub(super) monthly: f64,
}

#[rustfmt::skip]
pub(super) const LB_TYPES: &[LbType] = &[
    LbType { id: 1, name: "lb11", conns: 10000, services: 5, targets: 25, certs: 10, monthly: 5.39 },
    LbType { id: 2, name: "lb21", conns: 20000, services: 15, targets: 75, certs: 25, monthly: 16.40 },
    LbType { id: 3, name: "lb31", conns: 40000, services: 30, targets: 150, certs: 50, monthly: 32.90 },
];

pub(super) const IMAGES: &[(u64, &str, &str)] = &[
    (67794396, "ubuntu-22.04", "Ubuntu 22.04"),
    (161547269, "ubuntu-24.04", "Ubuntu 24.04"),
    (114690387, "debian-12", "Debian 12"),
];

pub(super) const TB: u64 = 1024 * 1024 * 1024 * 1024;
pub(super) const VAT: f64 = 0.19;
pub(super) const USER_DATA_MAX: usize = 32 * 1024;

pub(super) fn money(v: f64) -> String {
    format!("{v:.4}")
}

pub(super) fn amount(net: f64) -> Value {
    json!({"net": money(net), "gross": money(net * (1.0 + VAT))})
}

pub(super) fn location_price(loc: &Loc, monthly_de: f64) -> Value {
    let monthly = (monthly_de * loc.factor * 100.0).round() / 100.0;
    // Hetzner's hourly rate reaches the monthly cap after roughly 632 hours.
    let hourly = (monthly / 632.0 * 10000.0).round() / 10000.0;
    json!({
        "location": loc.name,
        "price_hourly": amount(hourly),
        "price_monthly": amount(monthly),
        "included_traffic": loc.traffic_tb * TB,
        "price_per_tb_traffic": amount(1.0),
    })
}

pub(super) fn loc_by_name(name: &str) -> Option<&'static Loc> {
    LOCATIONS.iter().find(|l| l.name == name)
}

pub(super) fn location_json(l: &Loc) -> Value {
    json!({
        "id": l.id, "name": l.name, "description": l.description, "country": l.country,
        "city": l.city, "latitude": l.lat, "longitude": l.lon, "network_zone": l.zone,
    })
}

pub(super) fn datacenter_json(l: &Loc) -> Value {
    json!({
        "id": l.id * 10, "name": l.dc, "description": format!("{} virtual DC", l.city),
        "location": location_json(l),
    })
}

pub(super) fn server_type_json(t: &SType, unavailable: &[(String, String)]) -> Value {
    let prices: Vec<Value> = t
        .locations
        .iter()
        .filter_map(|n| loc_by_name(n))
        .map(|l| location_price(l, t.monthly))
        .collect();
    let locations: Vec<Value> = t
        .locations
        .iter()
        .filter_map(|n| loc_by_name(n))
        .map(|l| {
            let off = unavailable.iter().any(|(ty, lo)| ty == t.name && lo == l.name);
            json!({"id": l.id, "name": l.name, "available": !off, "recommended": !off && l.name != "sin", "deprecation": null})
        })
        .collect();
    json!({
        "id": t.id, "name": t.name, "description": t.name.to_uppercase(), "category": t.category,
        "cores": t.cores, "memory": t.memory, "disk": t.disk, "storage_type": "local",
        "cpu_type": t.cpu, "architecture": t.arch, "deprecated": false, "deprecation": null,
        "included_traffic": 0, "prices": prices, "locations": locations,
    })
}

pub(super) fn lb_type_json(t: &LbType) -> Value {
    let prices: Vec<Value> = LOCATIONS.iter().map(|l| location_price(l, t.monthly)).collect();
    json!({
        "id": t.id, "name": t.name, "description": format!("LB{}", &t.name[2..]),
        "max_connections": t.conns, "max_services": t.services, "max_targets": t.targets,
        "max_assigned_certificates": t.certs, "deprecated": null, "prices": prices,
    })
}

pub(super) fn pricing_json() -> Value {
    let ip_prices = |monthly: f64| -> Vec<Value> {
        LOCATIONS
            .iter()
            .map(|l| json!({"location": l.name, "price_hourly": amount(monthly / 672.0), "price_monthly": amount(monthly)}))
            .collect()
    };
    json!({"pricing": {
        "currency": "EUR",
        "vat_rate": "19.000000",
        "image": {"price_per_gb_month": amount(0.0119)},
        "volume": {"price_per_gb_month": amount(0.044)},
        "server_backup": {"percentage": "20.000000"},
        "floating_ips": [
            {"type": "ipv4", "prices": ip_prices(3.57)},
            {"type": "ipv6", "prices": ip_prices(3.57)},
        ],
        "primary_ips": [
            {"type": "ipv4", "prices": ip_prices(0.50)},
            {"type": "ipv6", "prices": ip_prices(0.0)},
        ],
        "server_types": SERVER_TYPES.iter().map(|t| json!({
            "id": t.id, "name": t.name,
            "prices": t.locations.iter().filter_map(|n| loc_by_name(n)).map(|l| location_price(l, t.monthly)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "load_balancer_types": LB_TYPES.iter().map(|t| json!({
            "id": t.id, "name": t.name,
            "prices": LOCATIONS.iter().map(|l| location_price(l, t.monthly)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }})
}
