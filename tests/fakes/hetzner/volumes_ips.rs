//! Volumes, primary IPs and floating IPs.
use super::*;

pub(super) fn create_volume(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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

pub(super) fn create_primary_ip(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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

pub(super) fn create_floating_ip(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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
