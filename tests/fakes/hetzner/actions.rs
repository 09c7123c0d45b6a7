//! Actions on resources (`POST /{collection}/{id}/actions/{action}`).
use super::*;

pub(super) fn resource_action(
    s: &mut FakeState,
    coll: &'static str,
    id: u64,
    action: &str,
    body: &Value,
) -> Reply {
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
