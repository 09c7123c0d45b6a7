//! Firewalls: rules, apply-to entries and creation.
use super::*;

pub(super) fn valid_rule(r: &Value) -> bool {
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

pub(super) fn apply_to_entries(s: &FakeState, list: &[Value]) -> Result<Vec<Value>, Reply> {
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

pub(super) fn create_firewall(s: &mut FakeState, body: &Value, labels: Value) -> Reply {
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
