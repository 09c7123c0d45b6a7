//! A small Hetzner-compatible API that records every request, so the runner's
//! contract with the stand-in `tofu` is tested without the full fake.
use super::*;

#[derive(Default)]
pub(super) struct Api {
    pub(super) next: u64,
    pub(super) objects: BTreeMap<(String, u64), Value>,
    pub(super) requests: Vec<(String, String, Value)>,
}

pub(super) type Shared = Arc<Mutex<Api>>;

pub(super) fn singular(c: &str) -> Option<&'static str> {
    Some(match c {
        "ssh_keys" => "ssh_key",
        "networks" => "network",
        "firewalls" => "firewall",
        "servers" => "server",
        "load_balancers" => "load_balancer",
        _ => return None,
    })
}

pub(super) fn reply(status: StatusCode, v: Value) -> Response {
    (status, [("content-type", "application/json")], v.to_string()).into_response()
}

pub(super) fn not_found() -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"error": {"code": "not_found", "message": "not found"}}),
    )
}

pub(super) async fn handle(
    State(api): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get("authorization").and_then(|h| h.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"code": "unauthorized", "message": "unable to authenticate"}}),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().trim_start_matches("/v1/").to_owned();
    let segs: Vec<&str> = path.split('/').collect();
    let mut api = api.lock().unwrap();
    api.requests
        .push((method.to_string(), path.clone(), body.clone()));
    let ok_action = json!({"action": {"id": 1, "status": "success"}});
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["actions", _]) => reply(StatusCode::OK, ok_action),
        ("POST", [c]) if singular(c).is_some() => {
            api.next += 1;
            let id = api.next;
            let mut obj = body.clone();
            obj["id"] = json!(id);
            obj["public_net"] = json!({"ipv4": {"ip": format!("203.0.113.{id}")}});
            api.objects.insert((c.to_string(), id), obj.clone());
            reply(
                StatusCode::CREATED,
                json!({singular(c).unwrap_or_default(): obj, "action": {"id": id, "status": "success"}}),
            )
        }
        ("GET", [c, id]) => match api.objects.get(&(c.to_string(), id.parse().unwrap_or(0))) {
            Some(o) => reply(StatusCode::OK, json!({singular(c).unwrap_or_default(): o})),
            None => not_found(),
        },
        ("DELETE", [c, id]) => match api.objects.remove(&(c.to_string(), id.parse().unwrap_or(0))) {
            Some(_) => reply(StatusCode::OK, ok_action),
            None => not_found(),
        },
        ("POST", [c, id, "actions", _])
            if api
                .objects
                .contains_key(&(c.to_string(), id.parse().unwrap_or(0))) =>
        {
            reply(StatusCode::CREATED, ok_action)
        }
        _ => not_found(),
    }
}

pub(super) async fn start_api() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new().fallback(handle).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1"), state)
}

pub(super) fn live(api: &Shared, coll: &str) -> Vec<Value> {
    api.lock()
        .unwrap()
        .objects
        .iter()
        .filter(|((c, _), _)| c == coll)
        .map(|(_, v)| v.clone())
        .collect()
}
