//! Load balancers: creation, network attachment, services and targets.
use super::*;

pub(super) fn create_load_balancer(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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

pub(super) fn lb_attach(s: &mut FakeState, lb: u64, body: &Value) -> Result<(), Reply> {
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

pub(super) fn lb_add_service(s: &mut FakeState, lb: u64, svc: &Value) -> Result<(), Reply> {
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

pub(super) fn lb_add_target(s: &mut FakeState, lb: u64, t: &Value) -> Result<(), Reply> {
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
