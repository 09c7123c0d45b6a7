//! Fake Hetzner Cloud API. Stands in for `https://api.hetzner.cloud/v1`
//! (the endpoint the app's client and the hcloud OpenTofu provider talk to,
//! overridable with `HCLOUD_ENDPOINT`), which the test machine cannot reach.
//!
//! It speaks the real wire format for what the app and the module use:
//! bearer tokens with scopes (read-write, read-only, invalid), servers,
//! networks (+ subnets), firewalls, ssh_keys, load_balancers (+ services,
//! targets, network attachment as actions), volumes, primary_ips,
//! floating_ips, actions, locations, server_types, load_balancer_types and
//! pricing; label selectors; `page`/`per_page` pagination with
//! `meta.pagination`; the project rate limit with `RateLimit-*` headers and
//! 429 `rate_limit_exceeded`; the error object `{"error":{code,message,
//! details}}` with Hetzner's codes; scripted faults; the quirk that a deleted
//! object stays listed for a while; a firewall that cannot be deleted while a
//! server holds it; the actions the hcloud provider's updates use (server
//! power, change_type, network attach and detach, change_protection, the
//! load balancer's update_service, change_type, change_algorithm and public
//! interface). `GET /__inventory` (and `FakeHetzner::inventory`) dumps every
//! object that exists, so tests can prove what is there.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

// ---------------------------------------------------------------- config

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokenKind {
    ReadWrite,
    ReadOnly,
    /// A token Hetzner knows but no longer accepts (deleted, revoked).
    Invalid,
}

#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Tokens and their scopes; any other token is unknown (401).
    pub tokens: Vec<(String, TokenKind)>,
    /// How long a deleted object stays listed (Hetzner's lag). 0 in tests
    /// unless a test asks for the quirk.
    pub linger: Duration,
    /// `RateLimit-Limit`: the bucket size (Hetzner: 3600 per project).
    pub rate_limit: u32,
    /// One request comes back into the bucket per this interval (Hetzner: 1 s).
    pub rate_refill: Duration,
    /// The code a read-only token gets on a write: `token_readonly`
    /// (current API) or `forbidden` (older).
    pub readonly_code: &'static str,
    /// Project server limit; creating beyond it is `resource_limit_exceeded`.
    pub server_limit: usize,
    /// `per_page` when the caller gives none (Hetzner: 25; maximum 50).
    pub default_per_page: u64,
    /// Every DELETE answers only after this long (a slow API, so a test can
    /// kill a wipe half-way).
    pub delete_delay: Duration,
    /// A server's `create_server` action stays `running` this long (the
    /// server exists at once, as at Hetzner, while it boots), so a provider
    /// waiting on it is mid-create: a test can kill the app there.
    pub server_create_delay: Duration,
}

pub const RW_TOKEN: &str = "fake-rw-token-0123456789abcdef0123456789abcdef0123456789abcdef0123";
pub const RO_TOKEN: &str = "fake-ro-token-0123456789abcdef0123456789abcdef0123456789abcdef0123";
pub const REVOKED_TOKEN: &str = "fake-revoked-token-0123456789abcdef0123456789abcdef0123456789abcd";

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            tokens: vec![
                (RW_TOKEN.into(), TokenKind::ReadWrite),
                (RO_TOKEN.into(), TokenKind::ReadOnly),
                (REVOKED_TOKEN.into(), TokenKind::Invalid),
            ],
            linger: Duration::ZERO,
            rate_limit: 3600,
            rate_refill: Duration::from_secs(1),
            readonly_code: "token_readonly",
            server_limit: 25,
            default_per_page: 25,
            delete_delay: Duration::ZERO,
            server_create_delay: Duration::ZERO,
        }
    }
}

// ---------------------------------------------------------------- faults

#[derive(Debug, Clone)]
pub enum FaultKind {
    /// 500 `server_error` with Hetzner's error object.
    ServerError,
    /// 502 with an HTML page and no error object, as a proxy sends it.
    BadGateway,
    /// 403 `resource_limit_exceeded` (quota), e.g. "server limit exceeded".
    ResourceLimitExceeded(String),
    /// 412 `resource_unavailable`, e.g. "server location disabled".
    ResourceUnavailable(String),
    /// 412 `placement_error` on server create.
    PlacementError,
    /// Any error object.
    Error {
        status: u16,
        code: String,
        message: String,
    },
}

/// A scripted fault: the next `times` requests matching method and path
/// prefix (after `/v1`) get `kind` instead of their answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<Method>,
    pub path_prefix: String,
    pub times: u32,
    pub kind: FaultKind,
}

impl Fault {
    pub fn new(method: Option<Method>, path_prefix: &str, times: u32, kind: FaultKind) -> Fault {
        Fault {
            method,
            path_prefix: path_prefix.to_owned(),
            times,
            kind,
        }
    }

    /// A burst of `n` 500s on every method of a path.
    pub fn server_errors(path_prefix: &str, n: u32) -> Fault {
        Fault::new(None, path_prefix, n, FaultKind::ServerError)
    }
}

// ---------------------------------------------------------------- records

#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path after `/v1`, e.g. `/servers/12`.
    pub path: String,
    pub query: String,
    pub status: u16,
    /// Whether the Authorization header carried a token (never the token).
    pub authenticated: bool,
}

/// Every object that exists (deleted-but-still-listed ones excluded), per
/// collection name (`servers`, `ssh_keys`, …).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub resources: BTreeMap<String, Vec<Value>>,
}

impl Inventory {
    pub fn count(&self, collection: &str) -> usize {
        self.resources.get(collection).map_or(0, Vec::len)
    }

    pub fn total(&self) -> usize {
        self.resources.values().map(Vec::len).sum()
    }

    pub fn names(&self, collection: &str) -> Vec<String> {
        self.resources
            .get(collection)
            .map(|v| {
                v.iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn find(&self, collection: &str, name: &str) -> Option<&Value> {
        self.resources
            .get(collection)?
            .iter()
            .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
    }
}

// ---------------------------------------------------------------- catalogue

struct Loc {
    id: u64,
    name: &'static str,
    description: &'static str,
    country: &'static str,
    city: &'static str,
    lat: f64,
    lon: f64,
    zone: &'static str,
    dc: &'static str,
    /// Price factor against Germany/Finland.
    factor: f64,
    /// Included traffic per server in TB.
    traffic_tb: u64,
}

#[rustfmt::skip]
const LOCATIONS: &[Loc] = &[
    Loc { id: 1, name: "fsn1", description: "Falkenstein DC Park 1", country: "DE", city: "Falkenstein", lat: 50.47612, lon: 12.370071, zone: "eu-central", dc: "fsn1-dc14", factor: 1.0, traffic_tb: 20 },
    Loc { id: 2, name: "nbg1", description: "Nuremberg DC Park 1", country: "DE", city: "Nuremberg", lat: 49.452102, lon: 11.076665, zone: "eu-central", dc: "nbg1-dc3", factor: 1.0, traffic_tb: 20 },
    Loc { id: 3, name: "hel1", description: "Helsinki DC Park 1", country: "FI", city: "Helsinki", lat: 60.169855, lon: 24.938379, zone: "eu-central", dc: "hel1-dc2", factor: 1.0, traffic_tb: 20 },
    Loc { id: 4, name: "ash", description: "Ashburn, VA", country: "US", city: "Ashburn, VA", lat: 39.045821, lon: -77.487073, zone: "us-east", dc: "ash-dc1", factor: 1.2, traffic_tb: 1 },
    Loc { id: 5, name: "hil", description: "Hillsboro, OR", country: "US", city: "Hillsboro, OR", lat: 45.54222, lon: -122.951924, zone: "us-west", dc: "hil-dc1", factor: 1.2, traffic_tb: 1 },
    Loc { id: 6, name: "sin", description: "Singapore", country: "SG", city: "Singapore", lat: 1.283333, lon: 103.833333, zone: "ap-southeast", dc: "sin-dc1", factor: 1.35, traffic_tb: 1 },
];

const EU: &[&str] = &["fsn1", "nbg1", "hel1"];
const ALL_LOCS: &[&str] = &["fsn1", "nbg1", "hel1", "ash", "hil", "sin"];

struct SType {
    id: u64,
    name: &'static str,
    cores: u32,
    memory: f64,
    disk: u64,
    cpu: &'static str,
    arch: &'static str,
    category: &'static str,
    /// Monthly net EUR in Germany.
    monthly: f64,
    locations: &'static [&'static str],
}

#[rustfmt::skip]
const SERVER_TYPES: &[SType] = &[
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

struct LbType {
    id: u64,
    name: &'static str,
    conns: u64,
    services: u32,
    targets: u32,
    certs: u32,
    monthly: f64,
}

#[rustfmt::skip]
const LB_TYPES: &[LbType] = &[
    LbType { id: 1, name: "lb11", conns: 10000, services: 5, targets: 25, certs: 10, monthly: 5.39 },
    LbType { id: 2, name: "lb21", conns: 20000, services: 15, targets: 75, certs: 25, monthly: 16.40 },
    LbType { id: 3, name: "lb31", conns: 40000, services: 30, targets: 150, certs: 50, monthly: 32.90 },
];

const IMAGES: &[(u64, &str, &str)] = &[
    (67794396, "ubuntu-22.04", "Ubuntu 22.04"),
    (161547269, "ubuntu-24.04", "Ubuntu 24.04"),
    (114690387, "debian-12", "Debian 12"),
];

const TB: u64 = 1024 * 1024 * 1024 * 1024;
const VAT: f64 = 0.19;
const USER_DATA_MAX: usize = 32 * 1024;

fn money(v: f64) -> String {
    format!("{v:.4}")
}

fn amount(net: f64) -> Value {
    json!({"net": money(net), "gross": money(net * (1.0 + VAT))})
}

fn location_price(loc: &Loc, monthly_de: f64) -> Value {
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

fn loc_by_name(name: &str) -> Option<&'static Loc> {
    LOCATIONS.iter().find(|l| l.name == name)
}

fn location_json(l: &Loc) -> Value {
    json!({
        "id": l.id, "name": l.name, "description": l.description, "country": l.country,
        "city": l.city, "latitude": l.lat, "longitude": l.lon, "network_zone": l.zone,
    })
}

fn datacenter_json(l: &Loc) -> Value {
    json!({
        "id": l.id * 10, "name": l.dc, "description": format!("{} virtual DC", l.city),
        "location": location_json(l),
    })
}

fn server_type_json(t: &SType, unavailable: &[(String, String)]) -> Value {
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

fn lb_type_json(t: &LbType) -> Value {
    let prices: Vec<Value> = LOCATIONS.iter().map(|l| location_price(l, t.monthly)).collect();
    json!({
        "id": t.id, "name": t.name, "description": format!("LB{}", &t.name[2..]),
        "max_connections": t.conns, "max_services": t.services, "max_targets": t.targets,
        "max_assigned_certificates": t.certs, "deprecated": null, "prices": prices,
    })
}

fn pricing_json() -> Value {
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

// ---------------------------------------------------------------- helpers

const COLLECTIONS: [(&str, &str); 8] = [
    ("servers", "server"),
    ("networks", "network"),
    ("firewalls", "firewall"),
    ("ssh_keys", "ssh_key"),
    ("load_balancers", "load_balancer"),
    ("volumes", "volume"),
    ("primary_ips", "primary_ip"),
    ("floating_ips", "floating_ip"),
];

fn singular(collection: &str) -> Option<&'static str> {
    COLLECTIONS
        .iter()
        .find(|(c, _)| *c == collection)
        .map(|(_, s)| *s)
}

/// RFC 3339 UTC time, as Hetzner formats `created`.
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn now() -> String {
    rfc3339(SystemTime::now())
}

struct Reply {
    status: u16,
    body: Option<Value>,
    /// Raw body instead of JSON (a proxy's HTML page).
    raw: Option<(&'static str, String)>,
}

fn ok(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body: Some(body),
        raw: None,
    }
}

fn no_content() -> Reply {
    Reply {
        status: 204,
        body: None,
        raw: None,
    }
}

fn err_details(status: u16, code: &str, message: &str, details: Value) -> Reply {
    ok(
        status,
        json!({"error": {"code": code, "message": message, "details": details}}),
    )
}

fn err(status: u16, code: &str, message: &str) -> Reply {
    err_details(status, code, message, json!({}))
}

/// `invalid_input` naming the fields, as Hetzner does.
fn invalid(message: &str, fields: &[(&str, &str)]) -> Reply {
    let f: Vec<Value> = fields
        .iter()
        .map(|(n, m)| json!({"name": n, "messages": [m]}))
        .collect();
    err_details(400, "invalid_input", message, json!({"fields": f}))
}

fn missing(fields: &[&str]) -> Reply {
    let names: Vec<String> = fields.iter().map(|f| format!("'{f}'")).collect();
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|f| (*f, "Missing data for required field."))
        .collect();
    invalid(&format!("invalid input in fields {}", names.join(", ")), &pairs)
}

fn not_found(what: &str) -> Reply {
    err(404, "not_found", &format!("{what} not found"))
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn labels_of(body: &Value) -> Result<Value, Reply> {
    match body.get("labels") {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if !valid_label_key(k) || !v.as_str().is_some_and(valid_label_value) {
                    return Err(invalid(
                        &format!("invalid label {k}"),
                        &[("labels", "invalid label")],
                    ));
                }
            }
            Ok(Value::Object(m.clone()))
        }
        Some(_) => Err(invalid(
            "labels must be an object",
            &[("labels", "Not a valid mapping type.")],
        )),
    }
}

fn valid_label_value(v: &str) -> bool {
    v.is_empty() || valid_label_name(v)
}

fn valid_label_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn valid_label_key(k: &str) -> bool {
    match k.rsplit_once('/') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix.len() <= 253
                && !prefix.starts_with("hetzner.cloud")
                && valid_label_name(name)
        }
        None => valid_label_name(k),
    }
}

/// RFC 1123 host name, as Hetzner wants server names.
fn valid_server_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.split('.').all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && !p.ends_with('-')
                && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

// ---------------------------------------------------------------- label selectors

#[derive(Debug, PartialEq)]
enum Term {
    Eq(String, String),
    Ne(String, String),
    Has(String),
    NotHas(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// Parses `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`,
/// comma-separated (AND). Commas inside parentheses belong to the set.
fn parse_selector(s: &str) -> Result<Vec<Term>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced parentheses".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    parts.push(&s[start..]);
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or("a set needs parentheses")?;
        Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
    };
    let mut terms = Vec::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            return Err("empty expression".into());
        }
        let term = if let Some((k, v)) = p.split_once("!=") {
            Term::Ne(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = p.split_once("==") {
            Term::Eq(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = p.split_once('=') {
            Term::Eq(k.trim().into(), v.trim().into())
        } else if let Some(k) = p.strip_prefix('!') {
            Term::NotHas(k.trim().into())
        } else if let Some((k, rest)) = p.split_once(" notin ") {
            Term::NotIn(k.trim().into(), set(rest)?)
        } else if let Some((k, rest)) = p.split_once(" in ") {
            Term::In(k.trim().into(), set(rest)?)
        } else {
            Term::Has(p.into())
        };
        let key = match &term {
            Term::Eq(k, _)
            | Term::Ne(k, _)
            | Term::Has(k)
            | Term::NotHas(k)
            | Term::In(k, _)
            | Term::NotIn(k, _) => k,
        };
        if !valid_label_key(key) {
            return Err(format!("invalid label key {key:?}"));
        }
        terms.push(term);
    }
    Ok(terms)
}

fn selector_matches(terms: &[Term], labels: &Value) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    terms.iter().all(|t| match t {
        Term::Eq(k, v) => get(k) == Some(v.as_str()),
        Term::Ne(k, v) => get(k) != Some(v.as_str()),
        Term::Has(k) => get(k).is_some(),
        Term::NotHas(k) => get(k).is_none(),
        Term::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Term::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
    })
}

// ---------------------------------------------------------------- ssh key checks

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (i, chunk) in b.chunks(4).enumerate() {
        let last = i == b.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (j, c) in chunk.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { val(*c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// MD5 (RFC 1321), for the colon-hex fingerprint Hetzner shows for SSH keys.
fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15,
        21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// Checks an OpenSSH public key line the way Hetzner does (type, base64
/// blob whose inner type matches) and returns its MD5 fingerprint.
fn ssh_key_fingerprint(public_key: &str) -> Option<String> {
    let mut words = public_key.split_whitespace();
    let kind = words.next()?;
    let blob = b64_decode(words.next()?)?;
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let inner = std::str::from_utf8(blob.get(4..4 + len)?).ok()?;
    if inner != kind
        || !matches!(
            kind,
            "ssh-ed25519"
                | "ssh-rsa"
                | "ecdsa-sha2-nistp256"
                | "ecdsa-sha2-nistp384"
                | "ecdsa-sha2-nistp521"
                | "ssh-dss"
        )
    {
        return None;
    }
    let hex: Vec<String> = md5(&blob).iter().map(|b| format!("{b:02x}")).collect();
    Some(hex.join(":"))
}

// ---------------------------------------------------------------- state

struct Obj {
    v: Value,
    /// Set by DELETE; the object stays listed until `linger` has passed.
    deleted_at: Option<Instant>,
}

struct Bucket {
    remaining: u32,
    last_refill: Instant,
}

struct FakeState {
    cfg: FakeConfig,
    next_id: u64,
    res: BTreeMap<&'static str, BTreeMap<u64, Obj>>,
    actions: BTreeMap<u64, Value>,
    /// Actions still `running`, and when each finishes.
    running: BTreeMap<u64, Instant>,
    faults: Vec<Fault>,
    log: Vec<RequestRecord>,
    bucket: Bucket,
    next_ip: u32,
    /// (server type, location) pairs marked temporarily unavailable.
    unavailable: Vec<(String, String)>,
    /// (server name, user_data) of every server created: Hetzner takes
    /// user_data but never returns it, so tests read it here.
    user_data: Vec<(String, String)>,
}

impl FakeState {
    fn new(cfg: FakeConfig) -> FakeState {
        let mut res = BTreeMap::new();
        for (c, _) in COLLECTIONS {
            res.insert(c, BTreeMap::new());
        }
        FakeState {
            bucket: Bucket {
                remaining: cfg.rate_limit,
                last_refill: Instant::now(),
            },
            cfg,
            next_id: 1000,
            res,
            actions: BTreeMap::new(),
            running: BTreeMap::new(),
            faults: Vec::new(),
            log: Vec::new(),
            next_ip: 10,
            unavailable: Vec::new(),
            user_data: Vec::new(),
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn coll(&self, c: &str) -> &BTreeMap<u64, Obj> {
        static EMPTY: BTreeMap<u64, Obj> = BTreeMap::new();
        self.res.get(c).unwrap_or(&EMPTY)
    }

    fn coll_mut(&mut self, c: &str) -> Option<&mut BTreeMap<u64, Obj>> {
        self.res.get_mut(c)
    }

    /// A live (not deleted) object.
    fn live(&self, c: &str, id: u64) -> Option<&Value> {
        self.coll(c)
            .get(&id)
            .filter(|o| o.deleted_at.is_none())
            .map(|o| &o.v)
    }

    fn live_mut(&mut self, c: &str, id: u64) -> Option<&mut Value> {
        self.coll_mut(c)?
            .get_mut(&id)
            .filter(|o| o.deleted_at.is_none())
            .map(|o| &mut o.v)
    }

    /// A live object by id or by name (Hetzner accepts both in references).
    fn live_ref(&self, c: &str, r: &Value) -> Option<u64> {
        match r {
            Value::Number(n) => n.as_u64().filter(|id| self.live(c, *id).is_some()),
            Value::String(s) => match s.parse::<u64>() {
                Ok(id) => self.live(c, id).map(|_| id),
                Err(_) => self
                    .coll(c)
                    .iter()
                    .find(|(_, o)| o.deleted_at.is_none() && o.v["name"] == s.as_str())
                    .map(|(id, _)| *id),
            },
            _ => None,
        }
    }

    /// Names stay taken while a deleted object still lingers.
    fn name_taken(&self, c: &str, name: &str, except: Option<u64>) -> bool {
        self.coll(c)
            .iter()
            .any(|(id, o)| Some(*id) != except && o.v["name"] == name)
    }

    fn insert(&mut self, c: &'static str, id: u64, v: Value) {
        if let Some(m) = self.coll_mut(c) {
            m.insert(id, Obj { v, deleted_at: None });
        }
    }

    fn action(&mut self, command: &str, resources: &[(u64, &str)]) -> Value {
        let id = self.id();
        let t = now();
        let a = json!({
            "id": id, "command": command, "status": "success", "progress": 100,
            "started": t, "finished": t, "error": null,
            "resources": resources.iter().map(|(id, ty)| json!({"id": id, "type": ty})).collect::<Vec<_>>(),
        });
        let mut a = a;
        let delay = self.cfg.server_create_delay;
        if command == "create_server" && !delay.is_zero() {
            a["status"] = json!("running");
            a["progress"] = json!(0);
            a["finished"] = Value::Null;
            self.running.insert(id, Instant::now() + delay);
        }
        self.actions.insert(id, a.clone());
        a
    }

    /// Finishes the running actions whose time has come.
    fn settle_actions(&mut self) {
        let at = Instant::now();
        let due: Vec<u64> = self
            .running
            .iter()
            .filter(|(_, t)| **t <= at)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.running.remove(&id);
            if let Some(a) = self.actions.get_mut(&id) {
                a["status"] = json!("success");
                a["progress"] = json!(100);
                a["finished"] = json!(now());
            }
        }
    }

    fn public_ipv4(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        // Documentation ranges (RFC 5737): never a real address.
        let ip = if n < 250 {
            Ipv4Addr::new(203, 0, 113, n as u8)
        } else {
            Ipv4Addr::new(198, 51, 100, (n % 250) as u8)
        };
        ip.to_string()
    }

    fn public_ipv6(&mut self) -> String {
        self.next_ip += 1;
        format!("2001:db8:{:x}::/64", self.next_ip)
    }

    /// Marks an object deleted; it disappears after `linger`.
    fn mark_deleted(&mut self, c: &'static str, id: u64) {
        let linger_zero = self.cfg.linger.is_zero();
        if let Some(o) = self.coll_mut(c).and_then(|m| m.get_mut(&id)) {
            o.deleted_at = Some(Instant::now());
        }
        if linger_zero {
            self.sweep();
        }
    }

    /// Removes deleted objects whose linger time is over, then everything
    /// that pointed at them, as Hetzner does once a delete has completed.
    fn sweep(&mut self) {
        let linger = self.cfg.linger;
        let mut gone: Vec<(&'static str, u64)> = Vec::new();
        for (c, m) in self.res.iter() {
            for (id, o) in m {
                if o.deleted_at.is_some_and(|t| t.elapsed() >= linger) {
                    gone.push((c, *id));
                }
            }
        }
        for (c, id) in gone {
            if let Some(m) = self.coll_mut(c) {
                m.remove(&id);
            }
            self.on_removed(c, id);
        }
    }

    fn on_removed(&mut self, c: &str, id: u64) {
        match c {
            "servers" => {
                for fw in self
                    .res
                    .get_mut("firewalls")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(a) = fw.v["applied_to"].as_array_mut() {
                        a.retain(|e| !(e["type"] == "server" && e["server"]["id"] == id));
                    }
                }
                for lb in self
                    .res
                    .get_mut("load_balancers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(t) = lb.v["targets"].as_array_mut() {
                        t.retain(|e| !(e["type"] == "server" && e["server"]["id"] == id));
                    }
                }
                for n in self
                    .res
                    .get_mut("networks")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(s) = n.v["servers"].as_array_mut() {
                        s.retain(|x| *x != id);
                    }
                }
                for v in self
                    .res
                    .get_mut("volumes")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if v.v["server"] == id {
                        v.v["server"] = Value::Null;
                    }
                }
                for f in self
                    .res
                    .get_mut("floating_ips")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if f.v["server"] == id {
                        f.v["server"] = Value::Null;
                    }
                }
                // Primary IPs with auto_delete go with their server; others stay, unassigned.
                let mut auto = Vec::new();
                for (pid, p) in self
                    .res
                    .get_mut("primary_ips")
                    .into_iter()
                    .flat_map(|m| m.iter_mut())
                {
                    if p.v["assignee_id"] == id {
                        if p.v["auto_delete"] == true {
                            auto.push(*pid);
                        }
                        p.v["assignee_id"] = Value::Null;
                    }
                }
                for pid in auto {
                    if let Some(m) = self.coll_mut("primary_ips") {
                        m.remove(&pid);
                    }
                }
            }
            "load_balancers" => {
                for n in self
                    .res
                    .get_mut("networks")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(s) = n.v["load_balancers"].as_array_mut() {
                        s.retain(|x| *x != id);
                    }
                }
            }
            "firewalls" => {
                for s in self
                    .res
                    .get_mut("servers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(f) = s.v["public_net"]["firewalls"].as_array_mut() {
                        f.retain(|x| x["id"] != id);
                    }
                }
            }
            "networks" => {
                for s in self
                    .res
                    .get_mut("servers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(p) = s.v["private_net"].as_array_mut() {
                        p.retain(|x| x["network"] != id);
                    }
                }
                for s in self
                    .res
                    .get_mut("load_balancers")
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    if let Some(p) = s.v["private_net"].as_array_mut() {
                        p.retain(|x| x["network"] != id);
                    }
                }
            }
            _ => {}
        }
    }

    fn refill(&mut self) {
        let every = self.cfg.rate_refill.max(Duration::from_millis(1));
        let elapsed = self.bucket.last_refill.elapsed();
        let n = (elapsed.as_nanos() / every.as_nanos()) as u64;
        if n > 0 {
            self.bucket.remaining = (self.bucket.remaining as u64 + n).min(self.cfg.rate_limit as u64) as u32;
            self.bucket.last_refill += every * n as u32;
        }
        if self.bucket.remaining >= self.cfg.rate_limit {
            self.bucket.last_refill = Instant::now();
        }
    }

    /// `RateLimit-Reset`: when the bucket is full again, in unix seconds.
    fn reset_at(&self) -> u64 {
        let missing = self.cfg.rate_limit.saturating_sub(self.bucket.remaining);
        let at = SystemTime::now() + self.cfg.rate_refill * missing;
        let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    }

    fn inventory(&self) -> Inventory {
        let mut resources = BTreeMap::new();
        for (c, m) in &self.res {
            resources.insert(
                (*c).to_owned(),
                m.values()
                    .filter(|o| o.deleted_at.is_none())
                    .map(|o| o.v.clone())
                    .collect(),
            );
        }
        Inventory { resources }
    }
}

// ---------------------------------------------------------------- handle

type Shared = Arc<Mutex<FakeState>>;

fn lock(s: &Shared) -> MutexGuard<'_, FakeState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct FakeHetzner {
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeHetzner {
    /// Starts the fake on 127.0.0.1 with a free port.
    pub async fn start(config: FakeConfig) -> FakeHetzner {
        let state: Shared = Arc::new(Mutex::new(FakeState::new(config)));
        let app = Router::new()
            .route("/__inventory", axum::routing::get(inventory_route))
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the fake Hetzner API");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeHetzner {
            addr,
            state,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// The API root to configure the client with, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn inventory(&self) -> Inventory {
        let mut s = lock(&self.state);
        s.sweep();
        s.inventory()
    }

    /// (name, user_data) of every server created, in order.
    pub fn user_data(&self) -> Vec<(String, String)> {
        lock(&self.state).user_data.clone()
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state).log.clone()
    }

    /// Requests seen for a method and a path (after `/v1`), exactly.
    pub fn count(&self, method: &str, path: &str) -> usize {
        lock(&self.state)
            .log
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Requests answered with a status.
    pub fn count_status(&self, status: u16) -> usize {
        lock(&self.state)
            .log
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    /// Drops every scripted fault not used up yet.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Sets how many requests are left in the rate-limit bucket now.
    pub fn set_rate_limit_remaining(&self, remaining: u32) {
        let mut s = lock(&self.state);
        s.bucket.remaining = remaining.min(s.cfg.rate_limit);
        s.bucket.last_refill = Instant::now();
    }

    pub fn set_linger(&self, linger: Duration) {
        lock(&self.state).cfg.linger = linger;
    }

    pub fn set_delete_delay(&self, delay: Duration) {
        lock(&self.state).cfg.delete_delay = delay;
    }

    pub fn set_server_create_delay(&self, delay: Duration) {
        lock(&self.state).cfg.server_create_delay = delay;
    }

    pub fn set_server_limit(&self, limit: usize) {
        lock(&self.state).cfg.server_limit = limit;
    }

    /// Marks a server type as not orderable in a location ("server location
    /// disabled", as fsn1 was in late 2025).
    pub fn set_unavailable(&self, server_type: &str, location: &str) {
        lock(&self.state)
            .unavailable
            .push((server_type.to_owned(), location.to_owned()));
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for FakeHetzner {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn inventory_route(State(state): State<Shared>) -> Response {
    let inv = {
        let mut s = lock(&state);
        s.sweep();
        s.inventory()
    };
    axum::Json(inv).into_response()
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::DELETE {
        let delay = lock(&state).cfg.delete_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    let mut s = lock(&state);
    s.sweep();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let reply = serve(&mut s, &method, &path, &query, token.as_deref(), &body);
    let rel = path.strip_prefix("/v1").unwrap_or(&path).to_owned();
    s.log.push(RequestRecord {
        method: method.to_string(),
        path: rel,
        query,
        status: reply.status,
        authenticated: token.is_some(),
    });
    let limit = s.cfg.rate_limit;
    let remaining = s.bucket.remaining;
    let reset = s.reset_at();
    drop(s);
    let mut resp = match (reply.raw, reply.body) {
        (Some((ctype, text)), _) => ([("content-type", ctype)], text).into_response(),
        (None, Some(b)) => axum::Json(b).into_response(),
        (None, None) => ().into_response(),
    };
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(limit));
    h.insert("ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("ratelimit-reset", HeaderValue::from(reset));
    resp
}

fn fault_reply(kind: &FaultKind) -> Reply {
    match kind {
        FaultKind::ServerError => err(500, "server_error", "internal server error"),
        FaultKind::BadGateway => Reply {
            status: 502,
            body: None,
            raw: Some((
                "text/html",
                "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
            )),
        },
        FaultKind::ResourceLimitExceeded(m) => err_details(
            403,
            "resource_limit_exceeded",
            m,
            json!({"limits": [{"name": "server_limit"}]}),
        ),
        FaultKind::ResourceUnavailable(m) => err(412, "resource_unavailable", m),
        FaultKind::PlacementError => err(412, "placement_error", "error during placement"),
        FaultKind::Error {
            status,
            code,
            message,
        } => err(*status, code, message),
    }
}

fn serve(
    s: &mut FakeState,
    method: &Method,
    path: &str,
    query: &str,
    token: Option<&str>,
    body: &Bytes,
) -> Reply {
    let Some(rel) = path.strip_prefix("/v1") else {
        return not_found("path");
    };
    // Authentication before the rate limit: the limit is per project, and an
    // unknown token belongs to none.
    let kind = token.and_then(|t| s.cfg.tokens.iter().find(|(k, _)| k == t).map(|(_, kind)| *kind));
    let kind = match kind {
        Some(TokenKind::ReadWrite) => TokenKind::ReadWrite,
        Some(TokenKind::ReadOnly) => TokenKind::ReadOnly,
        _ => return err(401, "unauthorized", "unable to authenticate"),
    };
    s.refill();
    if s.bucket.remaining == 0 {
        return err(
            429,
            "rate_limit_exceeded",
            "limit of 3600 requests per hour reached",
        );
    }
    s.bucket.remaining -= 1;
    if let Some(i) = s.faults.iter().position(|f| {
        f.times > 0 && rel.starts_with(&f.path_prefix) && f.method.as_ref().is_none_or(|m| m == method)
    }) {
        let f = &mut s.faults[i];
        f.times -= 1;
        let kind = f.kind.clone();
        if f.times == 0 {
            s.faults.remove(i);
        }
        return fault_reply(&kind);
    }
    if kind == TokenKind::ReadOnly && method != Method::GET {
        let code = s.cfg.readonly_code;
        let msg = if code == "token_readonly" {
            "The token is only allowed to perform GET requests"
        } else {
            "insufficient permissions for this request"
        };
        return err(403, code, msg);
    }
    let q = parse_query(query);
    let body: Value = if method == Method::POST || method == Method::PUT {
        match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return err(
                    400,
                    "json_error",
                    "unable to parse the request body as JSON object",
                );
            }
        }
    } else {
        Value::Null
    };
    let segs: Vec<&str> = rel.trim_matches('/').split('/').collect();
    route(s, method, &segs, &q, &body)
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn qget<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

/// Filters (`name`, `label_selector`, `fingerprint`, `type`) and paginates.
fn list(s: &FakeState, key: &str, items: Vec<Value>, q: &[(String, String)]) -> Reply {
    let mut items = items;
    if let Some(name) = qget(q, "name") {
        items.retain(|i| i["name"] == name);
    }
    if let Some(fp) = qget(q, "fingerprint") {
        items.retain(|i| i["fingerprint"] == fp);
    }
    if let Some(sel) = qget(q, "label_selector") {
        match parse_selector(sel) {
            Ok(terms) => items.retain(|i| selector_matches(&terms, &i["labels"])),
            Err(e) => {
                return invalid(
                    &format!("label_selector is invalid: {e}"),
                    &[("label_selector", "invalid label selector")],
                );
            }
        }
    }
    let per_page = qget(q, "per_page")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(s.cfg.default_per_page)
        .clamp(1, 50);
    let page = qget(q, "page")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len() as u64;
    let last_page = total.div_ceil(per_page).max(1);
    let start = ((page - 1) * per_page).min(total) as usize;
    let end = (start + per_page as usize).min(items.len());
    let page_items = items[start..end].to_vec();
    ok(
        200,
        json!({
            key: page_items,
            "meta": {"pagination": {
                "page": page, "per_page": per_page,
                "previous_page": if page > 1 { json!(page - 1) } else { Value::Null },
                "next_page": if page < last_page { json!(page + 1) } else { Value::Null },
                "last_page": last_page, "total_entries": total,
            }},
        }),
    )
}

fn visible(s: &FakeState, c: &str) -> Vec<Value> {
    s.coll(c).values().map(|o| o.v.clone()).collect()
}

fn route(s: &mut FakeState, method: &Method, segs: &[&str], q: &[(String, String)], body: &Value) -> Reply {
    let m = method.as_str();
    if segs.contains(&"actions") {
        s.settle_actions();
    }
    match (m, segs) {
        ("GET", ["locations"]) => {
            let items = LOCATIONS.iter().map(location_json).collect();
            list(s, "locations", items, q)
        }
        ("GET", ["locations", id]) => LOCATIONS
            .iter()
            .find(|l| l.id.to_string() == *id)
            .map(|l| ok(200, json!({"location": location_json(l)})))
            .unwrap_or_else(|| not_found("location")),
        ("GET", ["server_types"]) => {
            let items = SERVER_TYPES
                .iter()
                .map(|t| server_type_json(t, &s.unavailable))
                .collect();
            list(s, "server_types", items, q)
        }
        ("GET", ["server_types", id]) => SERVER_TYPES
            .iter()
            .find(|t| t.id.to_string() == *id)
            .map(|t| ok(200, json!({"server_type": server_type_json(t, &s.unavailable)})))
            .unwrap_or_else(|| not_found("server_type")),
        ("GET", ["load_balancer_types"]) => {
            let items = LB_TYPES.iter().map(lb_type_json).collect();
            list(s, "load_balancer_types", items, q)
        }
        ("GET", ["load_balancer_types", id]) => LB_TYPES
            .iter()
            .find(|t| t.id.to_string() == *id)
            .map(|t| ok(200, json!({"load_balancer_type": lb_type_json(t)})))
            .unwrap_or_else(|| not_found("load_balancer_type")),
        ("GET", ["pricing"]) => ok(200, pricing_json()),
        ("GET", ["actions", id]) => id
            .parse::<u64>()
            .ok()
            .and_then(|id| s.actions.get(&id).cloned())
            .map(|a| ok(200, json!({"action": a})))
            .unwrap_or_else(|| not_found("action")),
        ("GET", ["actions"]) => {
            let ids: Vec<u64> = q
                .iter()
                .filter(|(k, _)| k == "id")
                .filter_map(|(_, v)| v.parse().ok())
                .collect();
            if ids.is_empty() {
                return invalid(
                    "listing all actions is no longer supported; give id",
                    &[("id", "required")],
                );
            }
            let items = ids.iter().filter_map(|id| s.actions.get(id).cloned()).collect();
            list(s, "actions", items, q)
        }
        ("GET", [c]) if singular(c).is_some() => {
            let items = visible(s, c);
            list(s, c, items, q)
        }
        ("POST", [c]) if singular(c).is_some() => match COLLECTIONS.iter().find(|(x, _)| x == c) {
            Some((coll, _)) => create(s, coll, body),
            None => not_found("path"),
        },
        ("GET", [c, id]) | ("PUT", [c, id]) | ("DELETE", [c, id]) if singular(c).is_some() => {
            let Some(coll) = COLLECTIONS.iter().find(|(x, _)| x == c).map(|(x, _)| *x) else {
                return not_found("path");
            };
            let one = singular(c).unwrap_or("resource");
            let Some(id) = id.parse::<u64>().ok().filter(|id| s.coll(coll).contains_key(id)) else {
                return not_found(one);
            };
            match m {
                "GET" => ok(200, json!({one: s.coll(coll)[&id].v.clone()})),
                "PUT" => update(s, coll, one, id, body),
                _ => delete(s, coll, one, id),
            }
        }
        ("POST", [c, id, "actions", action]) if singular(c).is_some() => {
            let Some(coll) = COLLECTIONS.iter().find(|(x, _)| x == c).map(|(x, _)| *x) else {
                return not_found("path");
            };
            let one = singular(c).unwrap_or("resource");
            match id.parse::<u64>().ok().filter(|id| s.live(coll, *id).is_some()) {
                Some(id) => resource_action(s, coll, id, action, body),
                None => not_found(one),
            }
        }
        _ => not_found("path"),
    }
}

fn update(s: &mut FakeState, coll: &'static str, one: &str, id: u64, body: &Value) -> Reply {
    if s.live(coll, id).is_none() {
        return not_found(one);
    }
    if let Some(name) = str_field(body, "name")
        && s.name_taken(coll, name, Some(id))
    {
        return err_details(
            409,
            "uniqueness_error",
            "name is already used",
            json!({"fields": [{"name": "name"}]}),
        );
    }
    let labels = if body.get("labels").is_some() {
        match labels_of(body) {
            Ok(l) => Some(l),
            Err(r) => return r,
        }
    } else {
        None
    };
    let Some(v) = s.live_mut(coll, id) else {
        return not_found(one);
    };
    if let Some(name) = str_field(body, "name") {
        v["name"] = json!(name);
    }
    if let Some(l) = labels {
        v["labels"] = l;
    }
    let v = v.clone();
    ok(200, json!({one: v}))
}

fn delete(s: &mut FakeState, coll: &'static str, one: &str, id: u64) -> Reply {
    // Already deleted but still listed: Hetzner no longer knows it.
    let Some(obj) = s.live(coll, id).cloned() else {
        return not_found(one);
    };
    if obj["protection"]["delete"] == true {
        return err(403, "protected", &format!("{one} is delete protected"));
    }
    if coll == "firewalls" {
        let in_use = obj["applied_to"].as_array().is_some_and(|a| {
            a.iter().any(|e| match e["type"].as_str() {
                Some("server") => e["server"]["id"]
                    .as_u64()
                    .is_some_and(|sid| s.coll("servers").contains_key(&sid)),
                Some("label_selector") => e["label_selector"]["selector"]
                    .as_str()
                    .and_then(|sel| parse_selector(sel).ok())
                    .is_some_and(|t| {
                        s.coll("servers")
                            .values()
                            .any(|o| selector_matches(&t, &o.v["labels"]))
                    }),
                _ => false,
            })
        });
        if in_use {
            return err(422, "resource_in_use", "firewall is still in use by servers");
        }
    }
    s.mark_deleted(coll, id);
    match coll {
        // Servers answer with the delete action, everything else with 204.
        "servers" => {
            let a = s.action("delete_server", &[(id, "server")]);
            ok(200, json!({"action": a}))
        }
        _ => no_content(),
    }
}

// ---------------------------------------------------------------- creates

fn create(s: &mut FakeState, coll: &'static str, body: &Value) -> Reply {
    let labels = match labels_of(body) {
        Ok(l) => l,
        Err(r) => return r,
    };
    match coll {
        "ssh_keys" => create_ssh_key(s, body, labels),
        "servers" => create_server(s, body, labels),
        "networks" => create_network(s, body, labels),
        "firewalls" => create_firewall(s, body, labels),
        "load_balancers" => create_load_balancer(s, body, labels),
        "volumes" => create_volume(s, body, labels),
        "primary_ips" => create_primary_ip(s, body, labels),
        "floating_ips" => create_floating_ip(s, body, labels),
        _ => not_found("path"),
    }
}

fn uniqueness(what: &str) -> Reply {
    err_details(
        409,
        "uniqueness_error",
        &format!("{what} with the same name already exists"),
        json!({"fields": [{"name": "name"}]}),
    )
}

fn create_ssh_key(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let name = str_field(body, "name");
    let pk = str_field(body, "public_key");
    let (name, pk) = match (name, pk) {
        (Some(n), Some(p)) => (n, p),
        (None, None) => return missing(&["name", "public_key"]),
        (None, _) => return missing(&["name"]),
        (_, None) => return missing(&["public_key"]),
    };
    let Some(fp) = ssh_key_fingerprint(pk) else {
        return invalid("invalid public key", &[("public_key", "invalid ssh key")]);
    };
    if s.coll("ssh_keys")
        .values()
        .any(|o| o.v["fingerprint"] == fp.as_str())
    {
        return err_details(
            409,
            "uniqueness_error",
            "SSH key with the same fingerprint already exists",
            json!({"fields": [{"name": "public_key"}]}),
        );
    }
    if s.name_taken("ssh_keys", name, None) {
        return uniqueness("SSH key");
    }
    let id = s.id();
    let v = json!({
        "id": id, "name": name, "fingerprint": fp, "public_key": pk.trim(), "labels": labels, "created": now(),
    });
    s.insert("ssh_keys", id, v.clone());
    ok(201, json!({"ssh_key": v}))
}

fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let n = u32::from(ip);
    (n & mask == n).then_some((n, len))
}

fn cidr_contains(outer: (u32, u8), inner: (u32, u8)) -> bool {
    let mask = if outer.1 == 0 {
        0
    } else {
        u32::MAX << (32 - outer.1)
    };
    inner.1 >= outer.1 && inner.0 & mask == outer.0
}

fn cidr_overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    cidr_contains(a, b) || cidr_contains(b, a)
}

fn private_range(c: (u32, u8)) -> bool {
    [("10.0.0.0/8"), ("172.16.0.0/12"), ("192.168.0.0/16")]
        .iter()
        .filter_map(|r| parse_cidr(r))
        .any(|r| cidr_contains(r, c))
}

fn subnet_json(body: &Value, network_range: (u32, u8), existing: &[Value]) -> Result<Value, Reply> {
    let ty = str_field(body, "type").unwrap_or("");
    let zone = str_field(body, "network_zone").unwrap_or("");
    let range = str_field(body, "ip_range");
    if !matches!(ty, "server" | "cloud" | "vswitch") {
        return Err(invalid(
            "invalid subnet type",
            &[("type", "Must be one of: cloud, server, vswitch.")],
        ));
    }
    if !LOCATIONS.iter().any(|l| l.zone == zone) {
        return Err(invalid(
            "invalid network_zone",
            &[("network_zone", "unknown network zone")],
        ));
    }
    let Some(r) = range.and_then(parse_cidr) else {
        return Err(invalid("invalid ip_range", &[("ip_range", "invalid ip range")]));
    };
    if !cidr_contains(network_range, r) {
        return Err(invalid(
            "ip_range is not inside the network's ip_range",
            &[("ip_range", "outside network")],
        ));
    }
    if existing
        .iter()
        .filter_map(|e| e["ip_range"].as_str().and_then(parse_cidr))
        .any(|e| cidr_overlaps(e, r))
    {
        return Err(err(422, "networks_overlap", "subnet overlaps an existing subnet"));
    }
    let gateway = Ipv4Addr::from(network_range.0 + 1).to_string();
    Ok(json!({
        "type": ty, "ip_range": range, "network_zone": zone, "gateway": gateway, "vswitch_id": null,
    }))
}

fn create_network(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let (Some(name), Some(range)) = (str_field(body, "name"), str_field(body, "ip_range")) else {
        let mut m = Vec::new();
        if str_field(body, "name").is_none() {
            m.push("name");
        }
        if str_field(body, "ip_range").is_none() {
            m.push("ip_range");
        }
        return missing(&m);
    };
    let Some(net) = parse_cidr(range).filter(|c| private_range(*c) && c.1 <= 24) else {
        return invalid(
            "ip_range must be a private RFC 1918 range of /24 or larger",
            &[("ip_range", "invalid ip range")],
        );
    };
    if s.name_taken("networks", name, None) {
        return uniqueness("network");
    }
    let mut subnets: Vec<Value> = Vec::new();
    for sn in body
        .get("subnets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        match subnet_json(&sn, net, &subnets) {
            Ok(v) => subnets.push(v),
            Err(r) => return r,
        }
    }
    let id = s.id();
    let v = json!({
        "id": id, "name": name, "ip_range": range, "subnets": subnets, "routes": [],
        "servers": [], "load_balancers": [], "protection": {"delete": false}, "labels": labels,
        "created": now(), "expose_routes_to_vswitch": body.get("expose_routes_to_vswitch").cloned().unwrap_or(json!(false)),
    });
    s.insert("networks", id, v.clone());
    ok(201, json!({"network": v}))
}

/// Next free address in the network's first subnet of a zone.
fn allocate_private_ip(s: &FakeState, network_id: u64, zone: &str) -> Option<String> {
    let net = s.live("networks", network_id)?;
    let subnet = net["subnets"]
        .as_array()?
        .iter()
        .find(|sn| sn["network_zone"] == zone)?;
    let (base, len) = parse_cidr(subnet["ip_range"].as_str()?)?;
    let used: Vec<String> = s
        .coll("servers")
        .values()
        .chain(s.coll("load_balancers").values())
        .flat_map(|o| o.v["private_net"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["network"] == network_id)
        .filter_map(|p| p["ip"].as_str().map(str::to_owned))
        .collect();
    let size = 1u64 << (32 - len as u32);
    // .0 is the network, .1 the gateway; Hetzner hands out from .2.
    (2..size.saturating_sub(1))
        .map(|i| Ipv4Addr::from(base + i as u32).to_string())
        .find(|ip| !used.contains(ip))
}

fn attach_server_to_network(
    s: &mut FakeState,
    server_id: u64,
    network_id: u64,
    zone: &str,
) -> Result<(), Reply> {
    let Some(ip) = allocate_private_ip(s, network_id, zone) else {
        return Err(err(
            422,
            "no_subnet_available",
            "no subnet or IP available in the server's network zone",
        ));
    };
    if let Some(n) = s.live_mut("networks", network_id)
        && let Some(a) = n["servers"].as_array_mut()
    {
        a.push(json!(server_id));
    }
    if let Some(srv) = s.live_mut("servers", server_id)
        && let Some(p) = srv["private_net"].as_array_mut()
    {
        p.push(json!({"network": network_id, "ip": ip, "alias_ips": [], "mac_address": format!("86:00:00:{:02x}:{:02x}:{:02x}", (server_id >> 16) as u8, (server_id >> 8) as u8, server_id as u8)}));
    }
    Ok(())
}

fn create_server(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let mut miss = Vec::new();
    for f in ["name", "server_type", "image"] {
        if body.get(f).is_none_or(Value::is_null) {
            miss.push(f);
        }
    }
    if !miss.is_empty() {
        return missing(&miss);
    }
    let name = body["name"].as_str().unwrap_or("");
    if !valid_server_name(name) {
        return invalid(
            "invalid input in field 'name'",
            &[("name", "Name must be a valid hostname.")],
        );
    }
    let type_name = match &body["server_type"] {
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let Some(st) = SERVER_TYPES
        .iter()
        .find(|t| t.name == type_name || t.id.to_string() == type_name)
    else {
        return invalid(
            &format!("server type {type_name} not found"),
            &[("server_type", "unknown server type")],
        );
    };
    let loc_name = str_field(body, "location")
        .map(str::to_owned)
        .or_else(|| str_field(body, "datacenter").map(|d| d.split('-').next().unwrap_or("").to_owned()))
        .unwrap_or_else(|| "fsn1".to_owned());
    let Some(loc) = loc_by_name(&loc_name) else {
        return invalid(
            &format!("location {loc_name} not found"),
            &[("location", "unknown location")],
        );
    };
    if !st.locations.contains(&loc.name) {
        return invalid(
            "unsupported location for server type",
            &[("location", "unsupported location for server type")],
        );
    }
    if s.unavailable.iter().any(|(t, l)| t == st.name && l == loc.name) {
        return err(412, "resource_unavailable", "server location disabled");
    }
    let image_ref = match &body["image"] {
        Value::String(i) => i.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let Some(image) = IMAGES
        .iter()
        .find(|(id, n, _)| *n == image_ref || id.to_string() == image_ref)
    else {
        return invalid(
            &format!("image {image_ref} not found"),
            &[("image", "unknown image")],
        );
    };
    if body["user_data"]
        .as_str()
        .is_some_and(|u| u.len() > USER_DATA_MAX)
    {
        return invalid(
            "user_data is too long (max 32 KiB)",
            &[("user_data", "Length must be at most 32768.")],
        );
    }
    let mut key_ids = Vec::new();
    for k in body["ssh_keys"].as_array().cloned().unwrap_or_default() {
        match s.live_ref("ssh_keys", &k) {
            Some(id) => key_ids.push(id),
            None => {
                return invalid(
                    &format!("ssh key {k} not found"),
                    &[("ssh_keys", "unknown ssh key")],
                );
            }
        }
    }
    let mut fw_ids = Vec::new();
    for f in body["firewalls"].as_array().cloned().unwrap_or_default() {
        match s.live_ref("firewalls", &f["firewall"]) {
            Some(id) => fw_ids.push(id),
            None => return invalid("firewall not found", &[("firewalls", "unknown firewall")]),
        }
    }
    let mut net_ids = Vec::new();
    for n in body["networks"].as_array().cloned().unwrap_or_default() {
        match s.live_ref("networks", &n) {
            Some(id) => net_ids.push(id),
            None => return invalid("network not found", &[("networks", "unknown network")]),
        }
    }
    let mut vol_ids = Vec::new();
    for v in body["volumes"].as_array().cloned().unwrap_or_default() {
        match s.live_ref("volumes", &v) {
            Some(id) if s.live("volumes", id).is_some_and(|x| x["server"].is_null()) => vol_ids.push(id),
            Some(_) => {
                return err(
                    422,
                    "volume_already_attached",
                    "volume is already attached to a server",
                );
            }
            None => return invalid("volume not found", &[("volumes", "unknown volume")]),
        }
    }
    if s.name_taken("servers", name, None) {
        return uniqueness("server");
    }
    let live_servers = s
        .coll("servers")
        .values()
        .filter(|o| o.deleted_at.is_none())
        .count();
    if live_servers >= s.cfg.server_limit {
        return err_details(
            403,
            "resource_limit_exceeded",
            "server limit exceeded",
            json!({"limits": [{"name": "server_limit"}]}),
        );
    }
    if let Some(u) = body["user_data"].as_str() {
        s.user_data.push((name.to_owned(), u.to_owned()));
    }
    let id = s.id();
    let public_net = body.get("public_net").cloned().unwrap_or(json!({}));
    let mut ipv4 = Value::Null;
    if public_net["enable_ipv4"] != false {
        let (pid, ip) = match public_net["ipv4"]
            .as_u64()
            .and_then(|p| s.live("primary_ips", p).map(|v| (p, v.clone())))
        {
            Some((pid, v)) => (pid, v["ip"].as_str().unwrap_or("").to_owned()),
            None => {
                let pid = s.id();
                let ip = s.public_ipv4();
                s.insert(
                    "primary_ips",
                    pid,
                    primary_ip_json(
                        pid,
                        &format!("primary_ip-{pid}"),
                        "ipv4",
                        &ip,
                        Some(id),
                        true,
                        loc,
                        json!({}),
                    ),
                );
                (pid, ip)
            }
        };
        if let Some(p) = s.live_mut("primary_ips", pid) {
            p["assignee_id"] = json!(id);
        }
        ipv4 = json!({"id": pid, "ip": ip, "blocked": false, "dns_ptr": format!("static.{}.clients.your-server.de", ip.split('.').rev().collect::<Vec<_>>().join("."))});
    }
    let mut ipv6 = Value::Null;
    if public_net["enable_ipv6"] != false {
        let pid = s.id();
        let ip = s.public_ipv6();
        s.insert(
            "primary_ips",
            pid,
            primary_ip_json(
                pid,
                &format!("primary_ip-{pid}"),
                "ipv6",
                &ip,
                Some(id),
                true,
                loc,
                json!({}),
            ),
        );
        ipv6 = json!({"id": pid, "ip": ip, "blocked": false, "dns_ptr": []});
    }
    let server = json!({
        "id": id, "name": name, "status": "running", "created": now(),
        "public_net": {"ipv4": ipv4, "ipv6": ipv6, "floating_ips": [],
            "firewalls": fw_ids.iter().map(|f| json!({"id": f, "status": "applied"})).collect::<Vec<_>>()},
        "private_net": [], "server_type": server_type_json(st, &s.unavailable),
        "datacenter": datacenter_json(loc),
        "image": {"id": image.0, "type": "system", "status": "available", "name": image.1, "description": image.2, "os_flavor": image.1.split('-').next(), "architecture": st.arch},
        "iso": null, "rescue_enabled": false, "locked": false, "backup_window": null,
        "outgoing_traffic": 0, "ingoing_traffic": 0, "included_traffic": loc.traffic_tb * TB,
        "protection": {"delete": false, "rebuild": false}, "labels": labels,
        "volumes": vol_ids, "load_balancers": [], "primary_disk_size": st.disk, "placement_group": null,
    });
    s.insert("servers", id, server);
    for f in &fw_ids {
        if let Some(fw) = s.live_mut("firewalls", *f)
            && let Some(a) = fw["applied_to"].as_array_mut()
        {
            a.push(json!({"type": "server", "server": {"id": id}}));
        }
    }
    for v in &vol_ids {
        if let Some(vol) = s.live_mut("volumes", *v) {
            vol["server"] = json!(id);
        }
    }
    for n in &net_ids {
        if let Err(r) = attach_server_to_network(s, id, *n, loc.zone) {
            // Undo: Hetzner creates nothing when the request fails.
            if let Some(m) = s.coll_mut("servers") {
                m.remove(&id);
            }
            s.on_removed("servers", id);
            return r;
        }
    }
    let action = s.action("create_server", &[(id, "server")]);
    let start = s.action("start_server", &[(id, "server")]);
    let server = s.live("servers", id).cloned().unwrap_or(Value::Null);
    ok(
        201,
        json!({
            "server": server, "action": action, "next_actions": [start],
            "root_password": if key_ids.is_empty() { json!("fake-root-password") } else { Value::Null },
        }),
    )
}

#[allow(clippy::too_many_arguments)]
fn primary_ip_json(
    id: u64,
    name: &str,
    ty: &str,
    ip: &str,
    assignee: Option<u64>,
    auto_delete: bool,
    loc: &Loc,
    labels: Value,
) -> Value {
    json!({
        "id": id, "name": name, "type": ty, "ip": ip, "assignee_id": assignee, "assignee_type": "server",
        "auto_delete": auto_delete, "blocked": false, "dns_ptr": [], "datacenter": datacenter_json(loc),
        "protection": {"delete": false}, "labels": labels, "created": now(),
    })
}

fn valid_rule(r: &Value) -> bool {
    let dir = r["direction"].as_str();
    let proto = r["protocol"].as_str();
    let port_ok = match proto {
        Some("tcp" | "udp") => r["port"].as_str().is_some_and(|p| {
            p == "any"
                || p.split_once('-')
                    .map(|(a, b)| a.parse::<u16>().is_ok() && b.parse::<u16>().is_ok())
                    .unwrap_or_else(|| p.parse::<u16>().is_ok())
        }),
        Some("icmp" | "gre" | "esp") => r["port"].is_null(),
        _ => false,
    };
    let ips_ok = match dir {
        Some("in") => r["source_ips"].as_array().is_some_and(|a| !a.is_empty()),
        Some("out") => r["destination_ips"].as_array().is_some_and(|a| !a.is_empty()),
        _ => false,
    };
    port_ok && ips_ok
}

fn apply_to_entries(s: &FakeState, list: &[Value]) -> Result<Vec<Value>, Reply> {
    let mut out = Vec::new();
    for a in list {
        match a["type"].as_str() {
            Some("server") => match s.live_ref("servers", &a["server"]["id"]) {
                Some(id) => out.push(json!({"type": "server", "server": {"id": id}})),
                None => return Err(not_found("server")),
            },
            Some("label_selector") => {
                let sel = a["label_selector"]["selector"].as_str().unwrap_or("");
                if parse_selector(sel).is_err() {
                    return Err(invalid(
                        "invalid label selector",
                        &[("apply_to", "invalid label selector")],
                    ));
                }
                out.push(json!({"type": "label_selector", "label_selector": {"selector": sel}}));
            }
            _ => {
                return Err(invalid(
                    "invalid apply_to type",
                    &[("apply_to", "Must be one of: server, label_selector.")],
                ));
            }
        }
    }
    Ok(out)
}

fn create_firewall(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let Some(name) = str_field(body, "name") else {
        return missing(&["name"]);
    };
    let rules = body["rules"].as_array().cloned().unwrap_or_default();
    if let Some(bad) = rules.iter().position(|r| !valid_rule(r)) {
        return invalid(
            &format!("invalid rule at index {bad}"),
            &[("rules", "invalid firewall rule")],
        );
    }
    if s.name_taken("firewalls", name, None) {
        return uniqueness("firewall");
    }
    let applied = match apply_to_entries(s, body["apply_to"].as_array().map(Vec::as_slice).unwrap_or(&[])) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let id = s.id();
    let v = json!({"id": id, "name": name, "labels": labels, "created": now(), "rules": rules, "applied_to": applied.clone()});
    s.insert("firewalls", id, v.clone());
    let mut actions = Vec::new();
    for a in &applied {
        if let Some(sid) = a["server"]["id"].as_u64() {
            if let Some(srv) = s.live_mut("servers", sid)
                && let Some(f) = srv["public_net"]["firewalls"].as_array_mut()
            {
                f.push(json!({"id": id, "status": "applied"}));
            }
            actions.push(s.action("apply_firewall", &[(id, "firewall"), (sid, "server")]));
        }
    }
    if !rules.is_empty() {
        actions.push(s.action("set_firewall_rules", &[(id, "firewall")]));
    }
    ok(201, json!({"firewall": v, "actions": actions}))
}

fn create_load_balancer(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let mut miss = Vec::new();
    for f in ["name", "load_balancer_type"] {
        if body.get(f).is_none_or(Value::is_null) {
            miss.push(f);
        }
    }
    if !miss.is_empty() {
        return missing(&miss);
    }
    let name = body["name"].as_str().unwrap_or("");
    let ty_ref = match &body["load_balancer_type"] {
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let Some(ty) = LB_TYPES
        .iter()
        .find(|t| t.name == ty_ref || t.id.to_string() == ty_ref)
    else {
        return invalid(
            "load balancer type not found",
            &[("load_balancer_type", "unknown type")],
        );
    };
    let loc = match (str_field(body, "location"), str_field(body, "network_zone")) {
        (Some(l), _) => loc_by_name(l),
        (None, Some(z)) => LOCATIONS.iter().find(|l| l.zone == z),
        (None, None) => {
            return invalid(
                "one of location or network_zone is required",
                &[("location", "location or network_zone required")],
            );
        }
    };
    let Some(loc) = loc else {
        return invalid("location not found", &[("location", "unknown location")]);
    };
    if s.name_taken("load_balancers", name, None) {
        return uniqueness("load balancer");
    }
    let id = s.id();
    let ip = s.public_ipv4();
    let ip6 = s.public_ipv6();
    let algorithm = body
        .get("algorithm")
        .cloned()
        .filter(|a| !a.is_null())
        .unwrap_or(json!({"type": "round_robin"}));
    let v = json!({
        "id": id, "name": name,
        "public_net": {"enabled": body["public_interface"] != false, "ipv4": {"ip": ip, "dns_ptr": null}, "ipv6": {"ip": ip6.trim_end_matches("/64").to_owned() + "1", "dns_ptr": null}},
        "private_net": [], "location": location_json(loc), "load_balancer_type": lb_type_json(ty),
        "protection": {"delete": false}, "labels": labels, "created": now(),
        "services": [], "targets": [], "algorithm": algorithm,
        "outgoing_traffic": 0, "ingoing_traffic": 0, "included_traffic": loc.traffic_tb * TB,
    });
    s.insert("load_balancers", id, v);
    if let Some(n) = body.get("network").filter(|n| !n.is_null())
        && let Err(r) = lb_attach(s, id, &json!({"network": n}))
    {
        if let Some(m) = s.coll_mut("load_balancers") {
            m.remove(&id);
        }
        return r;
    }
    for svc in body["services"].as_array().cloned().unwrap_or_default() {
        if let Err(r) = lb_add_service(s, id, &svc) {
            if let Some(m) = s.coll_mut("load_balancers") {
                m.remove(&id);
            }
            s.on_removed("load_balancers", id);
            return r;
        }
    }
    for t in body["targets"].as_array().cloned().unwrap_or_default() {
        if let Err(r) = lb_add_target(s, id, &t) {
            if let Some(m) = s.coll_mut("load_balancers") {
                m.remove(&id);
            }
            s.on_removed("load_balancers", id);
            return r;
        }
    }
    let action = s.action("create_load_balancer", &[(id, "load_balancer")]);
    let v = s.live("load_balancers", id).cloned().unwrap_or(Value::Null);
    ok(201, json!({"load_balancer": v, "action": action}))
}

fn lb_attach(s: &mut FakeState, lb: u64, body: &Value) -> Result<(), Reply> {
    let Some(nid) = s.live_ref("networks", &body["network"]) else {
        return Err(not_found("network"));
    };
    let lbv = s.live("load_balancers", lb).cloned().unwrap_or(Value::Null);
    if lbv["private_net"]
        .as_array()
        .is_some_and(|p| p.iter().any(|x| x["network"] == nid))
    {
        return Err(err(
            422,
            "load_balancer_already_attached",
            "load balancer is already attached to this network",
        ));
    }
    let zone = lbv["location"]["network_zone"].as_str().unwrap_or("").to_owned();
    let ip = match str_field(body, "ip") {
        Some(ip) => ip.to_owned(),
        None => allocate_private_ip(s, nid, &zone).ok_or_else(|| {
            err(
                422,
                "no_subnet_available",
                "no subnet available in the load balancer's network zone",
            )
        })?,
    };
    if let Some(v) = s.live_mut("load_balancers", lb)
        && let Some(p) = v["private_net"].as_array_mut()
    {
        p.push(json!({"network": nid, "ip": ip}));
    }
    if let Some(n) = s.live_mut("networks", nid)
        && let Some(a) = n["load_balancers"].as_array_mut()
    {
        a.push(json!(lb));
    }
    Ok(())
}

fn lb_add_service(s: &mut FakeState, lb: u64, svc: &Value) -> Result<(), Reply> {
    let proto = svc["protocol"].as_str().unwrap_or("");
    if !matches!(proto, "tcp" | "http" | "https") {
        return Err(invalid(
            "invalid protocol",
            &[("protocol", "Must be one of: tcp, http, https.")],
        ));
    }
    let Some(listen) = svc["listen_port"].as_u64().or(match proto {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }) else {
        return Err(missing(&["listen_port"]));
    };
    let dest = svc["destination_port"]
        .as_u64()
        .or(if proto == "tcp" { None } else { Some(80) });
    let Some(dest) = dest else {
        return Err(missing(&["destination_port"]));
    };
    let Some(v) = s.live_mut("load_balancers", lb) else {
        return Err(not_found("load_balancer"));
    };
    let services = v["services"]
        .as_array_mut()
        .ok_or_else(|| not_found("load_balancer"))?;
    if services.iter().any(|x| x["listen_port"] == listen) {
        return Err(err(
            409,
            "source_port_already_used",
            "listen_port is already used by another service",
        ));
    }
    services.push(json!({
        "protocol": proto, "listen_port": listen, "destination_port": dest,
        "proxyprotocol": svc["proxyprotocol"].as_bool().unwrap_or(false),
        "health_check": svc.get("health_check").cloned().unwrap_or(json!({"protocol": "tcp", "port": dest, "interval": 15, "timeout": 10, "retries": 3})),
        "http": svc.get("http").cloned().unwrap_or(Value::Null),
    }));
    Ok(())
}

fn lb_add_target(s: &mut FakeState, lb: u64, t: &Value) -> Result<(), Reply> {
    let use_private = t["use_private_ip"].as_bool().unwrap_or(false);
    let lbv = s.live("load_balancers", lb).cloned().unwrap_or(Value::Null);
    if use_private && lbv["private_net"].as_array().is_none_or(Vec::is_empty) {
        return Err(err(
            422,
            "load_balancer_not_attached_to_network",
            "load balancer is not attached to a network",
        ));
    }
    let entry = match t["type"].as_str() {
        Some("server") => {
            let Some(sid) = s.live_ref("servers", &t["server"]["id"]) else {
                return Err(not_found("server"));
            };
            json!({"type": "server", "server": {"id": sid}, "use_private_ip": use_private, "health_status": []})
        }
        Some("label_selector") => {
            let sel = t["label_selector"]["selector"].as_str().unwrap_or("");
            if parse_selector(sel).is_err() {
                return Err(invalid(
                    "invalid label selector",
                    &[("label_selector", "invalid label selector")],
                ));
            }
            json!({"type": "label_selector", "label_selector": {"selector": sel}, "use_private_ip": use_private, "targets": []})
        }
        Some("ip") => {
            let ip = t["ip"]["ip"].as_str().unwrap_or("");
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(invalid("invalid ip", &[("ip", "invalid ip")]));
            }
            json!({"type": "ip", "ip": {"ip": ip}})
        }
        _ => {
            return Err(invalid(
                "invalid target type",
                &[("type", "Must be one of: server, label_selector, ip.")],
            ));
        }
    };
    let Some(v) = s.live_mut("load_balancers", lb) else {
        return Err(not_found("load_balancer"));
    };
    let targets = v["targets"]
        .as_array_mut()
        .ok_or_else(|| not_found("load_balancer"))?;
    let same = |x: &Value| {
        x["type"] == entry["type"]
            && x["server"] == entry["server"]
            && x["label_selector"] == entry["label_selector"]
            && x["ip"] == entry["ip"]
    };
    if targets.iter().any(same) {
        return Err(err(
            409,
            "target_already_defined",
            "the target is already defined",
        ));
    }
    targets.push(entry);
    Ok(())
}

fn create_volume(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let mut miss = Vec::new();
    for f in ["name", "size"] {
        if body.get(f).is_none_or(Value::is_null) {
            miss.push(f);
        }
    }
    if !miss.is_empty() {
        return missing(&miss);
    }
    let name = body["name"].as_str().unwrap_or("");
    let Some(size) = body["size"].as_u64().filter(|s| (10..=10240).contains(s)) else {
        return invalid(
            "size must be between 10 and 10240 GB",
            &[("size", "Must be between 10 and 10240.")],
        );
    };
    let server = body.get("server").filter(|v| !v.is_null());
    let (loc, server_id) = match (server, str_field(body, "location")) {
        (Some(sref), _) => {
            let Some(sid) = s.live_ref("servers", sref) else {
                return not_found("server");
            };
            let l = s
                .live("servers", sid)
                .and_then(|v| v["datacenter"]["location"]["name"].as_str().and_then(loc_by_name));
            (l, Some(sid))
        }
        (None, Some(l)) => (loc_by_name(l), None),
        (None, None) => {
            return invalid(
                "one of location or server is required",
                &[("location", "location or server required")],
            );
        }
    };
    let Some(loc) = loc else {
        return invalid("location not found", &[("location", "unknown location")]);
    };
    if s.name_taken("volumes", name, None) {
        return uniqueness("volume");
    }
    let id = s.id();
    let v = json!({
        "id": id, "name": name, "size": size, "server": server_id, "location": location_json(loc),
        "linux_device": format!("/dev/disk/by-id/scsi-0HC_Volume_{id}"), "protection": {"delete": false},
        "labels": labels, "status": "available", "format": body.get("format").cloned().unwrap_or(Value::Null),
        "created": now(),
    });
    s.insert("volumes", id, v.clone());
    if let Some(sid) = server_id
        && let Some(srv) = s.live_mut("servers", sid)
        && let Some(a) = srv["volumes"].as_array_mut()
    {
        a.push(json!(id));
    }
    let action = s.action("create_volume", &[(id, "volume")]);
    ok(201, json!({"volume": v, "action": action, "next_actions": []}))
}

fn create_primary_ip(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let mut miss = Vec::new();
    for f in ["name", "type", "assignee_type"] {
        if str_field(body, f).is_none() {
            miss.push(f);
        }
    }
    if !miss.is_empty() {
        return missing(&miss);
    }
    let name = body["name"].as_str().unwrap_or("");
    let ty = body["type"].as_str().unwrap_or("");
    if !matches!(ty, "ipv4" | "ipv6") {
        return invalid("invalid type", &[("type", "Must be one of: ipv4, ipv6.")]);
    }
    let assignee = match body.get("assignee_id").filter(|v| !v.is_null()) {
        Some(a) => match s.live_ref("servers", a) {
            Some(id) => Some(id),
            None => return not_found("server"),
        },
        None => None,
    };
    let loc = match (
        assignee,
        str_field(body, "location"),
        str_field(body, "datacenter"),
    ) {
        (Some(sid), _, _) => s
            .live("servers", sid)
            .and_then(|v| v["datacenter"]["location"]["name"].as_str().and_then(loc_by_name)),
        (None, Some(l), _) => loc_by_name(l),
        (None, None, Some(dc)) => LOCATIONS.iter().find(|l| l.dc == dc),
        (None, None, None) => {
            return invalid(
                "one of location, datacenter or assignee_id is required",
                &[("location", "required")],
            );
        }
    };
    let Some(loc) = loc else {
        return invalid("location not found", &[("location", "unknown location")]);
    };
    if s.name_taken("primary_ips", name, None) {
        return uniqueness("primary IP");
    }
    let id = s.id();
    let ip = if ty == "ipv4" {
        s.public_ipv4()
    } else {
        s.public_ipv6()
    };
    let auto = body["auto_delete"].as_bool().unwrap_or(false);
    let v = primary_ip_json(id, name, ty, &ip, assignee, auto, loc, labels);
    s.insert("primary_ips", id, v.clone());
    let action = s.action("create_primary_ip", &[(id, "primary_ip")]);
    ok(201, json!({"primary_ip": v, "action": action}))
}

fn create_floating_ip(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
    let Some(ty) = str_field(body, "type") else {
        return missing(&["type"]);
    };
    if !matches!(ty, "ipv4" | "ipv6") {
        return invalid("invalid type", &[("type", "Must be one of: ipv4, ipv6.")]);
    }
    let server = match body.get("server").filter(|v| !v.is_null()) {
        Some(r) => match s.live_ref("servers", r) {
            Some(id) => Some(id),
            None => return not_found("server"),
        },
        None => None,
    };
    let loc = match (server, str_field(body, "home_location")) {
        (_, Some(l)) => loc_by_name(l),
        (Some(sid), None) => s
            .live("servers", sid)
            .and_then(|v| v["datacenter"]["location"]["name"].as_str().and_then(loc_by_name)),
        (None, None) => {
            return invalid(
                "one of home_location or server is required",
                &[("home_location", "required")],
            );
        }
    };
    let Some(loc) = loc else {
        return invalid("location not found", &[("home_location", "unknown location")]);
    };
    let id = s.id();
    let name = str_field(body, "name")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("floating-ip-{id}"));
    if s.name_taken("floating_ips", &name, None) {
        return uniqueness("floating IP");
    }
    let ip = if ty == "ipv4" {
        s.public_ipv4()
    } else {
        s.public_ipv6()
    };
    let v = json!({
        "id": id, "name": name, "description": body.get("description").cloned().unwrap_or(Value::Null),
        "ip": ip, "type": ty, "server": server, "dns_ptr": [], "home_location": location_json(loc),
        "blocked": false, "protection": {"delete": false}, "labels": labels, "created": now(),
    });
    s.insert("floating_ips", id, v.clone());
    let action = s.action("create_floating_ip", &[(id, "floating_ip")]);
    ok(201, json!({"floating_ip": v, "action": action}))
}

// ---------------------------------------------------------------- actions on resources

fn resource_action(s: &mut FakeState, coll: &'static str, id: u64, action: &str, body: &Value) -> Reply {
    let one = singular(coll).unwrap_or("resource");
    let result: Result<(), Reply> = match (coll, action) {
        ("networks", "add_subnet") => {
            let net = s.live("networks", id).cloned().unwrap_or(Value::Null);
            let range = net["ip_range"].as_str().and_then(parse_cidr).unwrap_or((0, 0));
            let existing = net["subnets"].as_array().cloned().unwrap_or_default();
            subnet_json(body, range, &existing).map(|sn| {
                if let Some(n) = s.live_mut("networks", id)
                    && let Some(a) = n["subnets"].as_array_mut()
                {
                    a.push(sn);
                }
            })
        }
        ("networks", "delete_subnet") => {
            let r = str_field(body, "ip_range").unwrap_or("").to_owned();
            match s
                .live_mut("networks", id)
                .and_then(|n| n["subnets"].as_array_mut())
            {
                Some(a) if a.iter().any(|x| x["ip_range"] == r.as_str()) => {
                    a.retain(|x| x["ip_range"] != r.as_str());
                    Ok(())
                }
                _ => Err(not_found("subnet")),
            }
        }
        ("firewalls", "set_rules") => {
            let rules = body["rules"].as_array().cloned().unwrap_or_default();
            if rules.iter().any(|r| !valid_rule(r)) {
                Err(invalid("invalid rule", &[("rules", "invalid firewall rule")]))
            } else {
                if let Some(f) = s.live_mut("firewalls", id) {
                    f["rules"] = json!(rules);
                }
                Ok(())
            }
        }
        ("firewalls", "apply_to_resources") => {
            match apply_to_entries(s, body["apply_to"].as_array().map(Vec::as_slice).unwrap_or(&[])) {
                Err(r) => Err(r),
                Ok(entries) => {
                    for e in entries {
                        if let Some(sid) = e["server"]["id"].as_u64()
                            && let Some(srv) = s.live_mut("servers", sid)
                            && let Some(f) = srv["public_net"]["firewalls"].as_array_mut()
                        {
                            f.push(json!({"id": id, "status": "applied"}));
                        }
                        if let Some(f) = s.live_mut("firewalls", id)
                            && let Some(a) = f["applied_to"].as_array_mut()
                            && !a.contains(&e)
                        {
                            a.push(e);
                        }
                    }
                    Ok(())
                }
            }
        }
        ("firewalls", "remove_from_resources") => {
            match apply_to_entries(
                s,
                body["remove_from"].as_array().map(Vec::as_slice).unwrap_or(&[]),
            ) {
                Err(r) => Err(r),
                Ok(entries) => {
                    for e in entries {
                        if let Some(sid) = e["server"]["id"].as_u64()
                            && let Some(srv) = s.live_mut("servers", sid)
                            && let Some(f) = srv["public_net"]["firewalls"].as_array_mut()
                        {
                            f.retain(|x| x["id"] != id);
                        }
                        if let Some(f) = s.live_mut("firewalls", id)
                            && let Some(a) = f["applied_to"].as_array_mut()
                        {
                            a.retain(|x| *x != e);
                        }
                    }
                    Ok(())
                }
            }
        }
        ("load_balancers", "add_service") => lb_add_service(s, id, body),
        ("load_balancers", "delete_service") => {
            let port = body["listen_port"].as_u64();
            match s
                .live_mut("load_balancers", id)
                .and_then(|v| v["services"].as_array_mut())
            {
                Some(a) if a.iter().any(|x| x["listen_port"].as_u64() == port) => {
                    a.retain(|x| x["listen_port"].as_u64() != port);
                    Ok(())
                }
                _ => Err(not_found("service")),
            }
        }
        ("load_balancers", "add_target") => lb_add_target(s, id, body),
        ("load_balancers", "remove_target") => {
            let before = s
                .live("load_balancers", id)
                .and_then(|v| v["targets"].as_array().map(Vec::len));
            if let Some(a) = s
                .live_mut("load_balancers", id)
                .and_then(|v| v["targets"].as_array_mut())
            {
                a.retain(|x| {
                    let same = x["type"] == body["type"]
                        && match body["type"].as_str() {
                            Some("server") => x["server"]["id"] == body["server"]["id"],
                            Some("label_selector") => {
                                x["label_selector"]["selector"] == body["label_selector"]["selector"]
                            }
                            Some("ip") => x["ip"]["ip"] == body["ip"]["ip"],
                            _ => false,
                        };
                    !same
                });
            }
            let after = s
                .live("load_balancers", id)
                .and_then(|v| v["targets"].as_array().map(Vec::len));
            if before == after {
                Err(not_found("target"))
            } else {
                Ok(())
            }
        }
        ("load_balancers", "attach_to_network") => lb_attach(s, id, body),
        ("load_balancers", "detach_from_network") => match s.live_ref("networks", &body["network"]) {
            None => Err(not_found("network")),
            Some(nid) => {
                if let Some(p) = s
                    .live_mut("load_balancers", id)
                    .and_then(|v| v["private_net"].as_array_mut())
                {
                    p.retain(|x| x["network"] != nid);
                }
                if let Some(a) = s
                    .live_mut("networks", nid)
                    .and_then(|n| n["load_balancers"].as_array_mut())
                {
                    a.retain(|x| *x != id);
                }
                Ok(())
            }
        },
        ("volumes", "attach") => match s.live_ref("servers", &body["server"]) {
            None => Err(not_found("server")),
            Some(sid) => {
                if s.live("volumes", id).is_some_and(|v| !v["server"].is_null()) {
                    Err(err(422, "volume_already_attached", "volume is already attached"))
                } else {
                    if let Some(v) = s.live_mut("volumes", id) {
                        v["server"] = json!(sid);
                    }
                    if let Some(a) = s
                        .live_mut("servers", sid)
                        .and_then(|v| v["volumes"].as_array_mut())
                    {
                        a.push(json!(id));
                    }
                    Ok(())
                }
            }
        },
        ("volumes", "detach") => {
            let sid = s.live("volumes", id).and_then(|v| v["server"].as_u64());
            if let Some(v) = s.live_mut("volumes", id) {
                v["server"] = Value::Null;
            }
            if let Some(sid) = sid
                && let Some(a) = s
                    .live_mut("servers", sid)
                    .and_then(|v| v["volumes"].as_array_mut())
            {
                a.retain(|x| *x != id);
            }
            Ok(())
        }
        ("floating_ips", "assign") => match s.live_ref("servers", &body["server"]) {
            None => Err(not_found("server")),
            Some(sid) => {
                if let Some(v) = s.live_mut("floating_ips", id) {
                    v["server"] = json!(sid);
                }
                Ok(())
            }
        },
        ("floating_ips", "unassign") => {
            if let Some(v) = s.live_mut("floating_ips", id) {
                v["server"] = Value::Null;
            }
            Ok(())
        }
        ("primary_ips", "assign") => match s.live_ref("servers", &body["assignee_id"]) {
            None => Err(not_found("server")),
            Some(sid) => {
                if let Some(v) = s.live_mut("primary_ips", id) {
                    v["assignee_id"] = json!(sid);
                }
                Ok(())
            }
        },
        ("primary_ips", "unassign") => {
            if let Some(v) = s.live_mut("primary_ips", id) {
                v["assignee_id"] = Value::Null;
            }
            Ok(())
        }
        ("servers", "attach_to_network") => match s.live_ref("networks", &body["network"]) {
            None => Err(not_found("network")),
            Some(nid) => {
                let zone = s
                    .live("servers", id)
                    .and_then(|v| {
                        v["datacenter"]["location"]["network_zone"]
                            .as_str()
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                let attached = s.live("servers", id).is_some_and(|v| {
                    v["private_net"]
                        .as_array()
                        .is_some_and(|p| p.iter().any(|x| x["network"] == nid))
                });
                let ip = match str_field(body, "ip") {
                    Some(ip) => Some(ip.to_owned()),
                    None => allocate_private_ip(s, nid, &zone),
                };
                match ip {
                    _ if attached => Err(err(
                        422,
                        "server_already_attached",
                        "server is already attached to this network",
                    )),
                    None => Err(err(
                        422,
                        "no_subnet_available",
                        "no subnet or IP available in the server's network zone",
                    )),
                    Some(ip) => {
                        if let Some(n) = s.live_mut("networks", nid)
                            && let Some(a) = n["servers"].as_array_mut()
                        {
                            a.push(json!(id));
                        }
                        let alias = body
                            .get("alias_ips")
                            .cloned()
                            .filter(Value::is_array)
                            .unwrap_or(json!([]));
                        let mac = format!(
                            "86:00:00:{:02x}:{:02x}:{:02x}",
                            (id >> 16) as u8,
                            (id >> 8) as u8,
                            id as u8
                        );
                        if let Some(srv) = s.live_mut("servers", id)
                            && let Some(p) = srv["private_net"].as_array_mut()
                        {
                            p.push(json!({"network": nid, "ip": ip, "alias_ips": alias, "mac_address": mac}));
                        }
                        Ok(())
                    }
                }
            }
        },
        ("servers", "detach_from_network") => match s.live_ref("networks", &body["network"]) {
            None => Err(not_found("network")),
            Some(nid) => {
                let before = s
                    .live("servers", id)
                    .and_then(|v| v["private_net"].as_array().map(Vec::len));
                if let Some(p) = s
                    .live_mut("servers", id)
                    .and_then(|v| v["private_net"].as_array_mut())
                {
                    p.retain(|x| x["network"] != nid);
                }
                if let Some(a) = s
                    .live_mut("networks", nid)
                    .and_then(|n| n["servers"].as_array_mut())
                {
                    a.retain(|x| *x != id);
                }
                let after = s
                    .live("servers", id)
                    .and_then(|v| v["private_net"].as_array().map(Vec::len));
                if before == after {
                    Err(err(
                        422,
                        "server_not_attached",
                        "server is not attached to this network",
                    ))
                } else {
                    Ok(())
                }
            }
        },
        ("servers", "poweroff" | "shutdown") => {
            if let Some(v) = s.live_mut("servers", id) {
                v["status"] = json!("off");
            }
            Ok(())
        }
        ("servers", "poweron" | "reboot" | "reset") => {
            if let Some(v) = s.live_mut("servers", id) {
                v["status"] = json!("running");
            }
            Ok(())
        }
        ("servers", "change_type") => {
            let want = body["server_type"].as_str().unwrap_or_default().to_owned();
            let upgrade = body["upgrade_disk"].as_bool().unwrap_or(false);
            match SERVER_TYPES
                .iter()
                .find(|t| t.name == want || t.id.to_string() == want)
            {
                None => Err(invalid(
                    "server type not found",
                    &[("server_type", "unknown server type")],
                )),
                Some(_) if s.live("servers", id).is_some_and(|v| v["status"] != "off") => Err(err(
                    409,
                    "server_not_stopped",
                    "the server must be stopped to change its type",
                )),
                Some(st) => {
                    let j = server_type_json(st, &s.unavailable);
                    if let Some(v) = s.live_mut("servers", id) {
                        v["server_type"] = j;
                        if upgrade {
                            v["primary_disk_size"] = json!(st.disk);
                        }
                    }
                    Ok(())
                }
            }
        }
        ("servers", "enable_backup") => {
            if let Some(v) = s.live_mut("servers", id) {
                v["backup_window"] = json!("22-02");
            }
            Ok(())
        }
        (
            "servers" | "networks" | "load_balancers" | "volumes" | "floating_ips" | "primary_ips",
            "change_protection",
        ) => {
            if let Some(v) = s.live_mut(coll, id) {
                for k in ["delete", "rebuild"] {
                    if let Some(b) = body[k].as_bool() {
                        v["protection"][k] = json!(b);
                    }
                }
            }
            Ok(())
        }
        ("load_balancers", "update_service") => {
            let port = body["listen_port"].as_u64();
            match s
                .live_mut("load_balancers", id)
                .and_then(|v| v["services"].as_array_mut())
                .and_then(|a| a.iter_mut().find(|x| x["listen_port"].as_u64() == port))
            {
                None => Err(not_found("service")),
                Some(svc) => {
                    for k in [
                        "destination_port",
                        "proxyprotocol",
                        "protocol",
                        "health_check",
                        "http",
                    ] {
                        if let Some(v) = body.get(k).filter(|v| !v.is_null()) {
                            svc[k] = v.clone();
                        }
                    }
                    Ok(())
                }
            }
        }
        ("load_balancers", "change_type") => {
            let want = body["load_balancer_type"].as_str().unwrap_or_default().to_owned();
            match LB_TYPES
                .iter()
                .find(|t| t.name == want || t.id.to_string() == want)
            {
                None => Err(invalid(
                    "load balancer type not found",
                    &[("load_balancer_type", "unknown type")],
                )),
                Some(t) => {
                    let j = lb_type_json(t);
                    if let Some(v) = s.live_mut("load_balancers", id) {
                        v["load_balancer_type"] = j;
                    }
                    Ok(())
                }
            }
        }
        ("load_balancers", "change_algorithm") => match body["type"].as_str() {
            Some(t @ ("round_robin" | "least_connections")) => {
                if let Some(v) = s.live_mut("load_balancers", id) {
                    v["algorithm"] = json!({"type": t});
                }
                Ok(())
            }
            _ => Err(invalid(
                "invalid algorithm",
                &[("type", "Must be one of: round_robin, least_connections.")],
            )),
        },
        ("load_balancers", "enable_public_interface" | "disable_public_interface") => {
            let on = action == "enable_public_interface";
            if let Some(v) = s.live_mut("load_balancers", id) {
                v["public_net"]["enabled"] = json!(on);
            }
            Ok(())
        }
        _ => return not_found("action"),
    };
    match result {
        Err(r) => r,
        Ok(()) => {
            let a = s.action(action, &[(id, one)]);
            ok(201, json!({"action": a}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn label_selectors_follow_hetzner_grammar() {
        let l = json!({"catalyst/deployment": "d1", "role": "cp", "env": "prod"});
        let m = |sel: &str| selector_matches(&parse_selector(sel).unwrap(), &l);
        assert!(m("catalyst/deployment=d1"));
        assert!(m("catalyst/deployment==d1,role"));
        assert!(m("!missing"));
        assert!(!m("!role"));
        assert!(m("role!=worker"));
        assert!(!m("role!=cp"));
        assert!(m("env in (prod,staging),role"));
        assert!(!m("env notin (prod)"));
        assert!(m("missing notin (x)"));
        assert!(!m("role=cp,env=dev"));
        assert!(parse_selector("a=(b").is_err());
        assert!(parse_selector(",").is_err());
        assert!(parse_selector("bad key=1").is_err());
    }

    #[test]
    fn base64_and_rfc3339_helpers() {
        assert_eq!(b64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(b64_decode("YQ==").unwrap(), b"a");
        assert!(b64_decode("YQ=").is_none());
        assert!(b64_decode("Y===").is_none());
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20+00:00"
        );
        assert_eq!(pct_decode("a%3Db%2C%21c+d"), "a=b,!c d");
        assert_eq!(pct_decode("%zz%"), "%zz%");
    }
}
