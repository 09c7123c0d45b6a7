//! Request handling: auth, rate limit, faults, the request log, and routing to collections and actions.
use super::*;

pub(super) async fn inventory_route(State(state): State<Shared>) -> Response {
    let inv = {
        let mut s = lock(&state);
        s.sweep();
        s.inventory()
    };
    axum::Json(inv).into_response()
}

pub(super) async fn handle(
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
        at: std::time::Instant::now(),
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

pub(super) fn fault_reply(kind: &FaultKind) -> Reply {
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

pub(super) fn serve(
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

pub(super) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

pub(super) fn pct_decode(s: &str) -> String {
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

pub(super) fn qget<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

/// Filters (`name`, `label_selector`, `fingerprint`, `type`) and paginates.
pub(super) fn list(s: &FakeState, key: &str, items: Vec<Value>, q: &[(String, String)]) -> Reply {
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

pub(super) fn visible(s: &FakeState, c: &str) -> Vec<Value> {
    s.coll(c).values().map(|o| o.v.clone()).collect()
}

pub(super) fn route(
    s: &mut FakeState,
    method: &Method,
    segs: &[&str],
    q: &[(String, String)],
    body: &Value,
) -> Reply {
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

pub(super) fn update(s: &mut FakeState, coll: &'static str, one: &str, id: u64, body: &Value) -> Reply {
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

pub(super) fn delete(s: &mut FakeState, coll: &'static str, one: &str, id: u64) -> Reply {
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

pub(super) fn create(s: &mut FakeState, coll: &'static str, body: &Value) -> Reply {
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
