//! Networks and subnets: CIDR checks, creation, private IPs and server attachment.
use super::*;

pub(super) fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let n = u32::from(ip);
    (n & mask == n).then_some((n, len))
}

pub(super) fn cidr_contains(outer: (u32, u8), inner: (u32, u8)) -> bool {
    let mask = if outer.1 == 0 {
        0
    } else {
        u32::MAX << (32 - outer.1)
    };
    inner.1 >= outer.1 && inner.0 & mask == outer.0
}

pub(super) fn cidr_overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    cidr_contains(a, b) || cidr_contains(b, a)
}

pub(super) fn private_range(c: (u32, u8)) -> bool {
    [("10.0.0.0/8"), ("172.16.0.0/12"), ("192.168.0.0/16")]
        .iter()
        .filter_map(|r| parse_cidr(r))
        .any(|r| cidr_contains(r, c))
}

pub(super) fn subnet_json(
    body: &Value,
    network_range: (u32, u8),
    existing: &[Value],
) -> Result<Value, Reply> {
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

pub(super) fn create_network(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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
pub(super) fn allocate_private_ip(s: &FakeState, network_id: u64, zone: &str) -> Option<String> {
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

pub(super) fn attach_server_to_network(
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
