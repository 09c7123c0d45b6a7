//! Server creation, with its primary IPs.
use super::*;

pub(super) fn create_server(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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
pub(super) fn primary_ip_json(
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
