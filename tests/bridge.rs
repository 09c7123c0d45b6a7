//! The websocket bridge, driven as a browser or the CLI would: loopback
//! only, the per-launch token required, same-origin only, and the same
//! commands and events as the window.

use std::sync::Arc;

use catalyst_provisioner::adapters::bridge;
use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::{Engine, Paths};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

async fn engine() -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::new(Paths::under(dir.path()), false));
    (dir, engine)
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

async fn call(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    id: u32,
    call: Value,
) -> Value {
    ws.send(Message::text(json!({"id": id, "call": call}).to_string()))
        .await
        .unwrap();
    loop {
        let msg = ws.next().await.unwrap().unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v["type"] == "reply" && v["id"] == id {
            return v;
        }
    }
}

#[tokio::test]
async fn listens_on_loopback_only_with_a_fresh_token() {
    let (_d, e) = engine().await;
    let a = bridge::start(e.clone(), 0).await.unwrap();
    let b = bridge::start(e, 0).await.unwrap();
    assert!(a.addr.ip().is_loopback());
    assert_eq!(a.token.len(), 48);
    assert_ne!(a.token, b.token, "the token must be new for every launch");
    assert!(a.browser_url().starts_with("http://127.0.0.1:"));
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn websocket_refused_without_the_right_token_or_from_another_origin() {
    let (_d, e) = engine().await;
    let b = bridge::start(e, 0).await.unwrap();
    for url in [
        format!("ws://{}/ws", b.addr),
        format!("ws://{}/ws?token=deadbeef", b.addr),
    ] {
        let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
        assert!(err.to_string().contains("401"), "{err}");
    }
    let mut req = b.ws_url().into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", HeaderValue::from_static("http://evil.example"));
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    // The page's own origin is accepted.
    let mut req = b.ws_url().into_client_request().unwrap();
    req.headers_mut().insert(
        "Origin",
        HeaderValue::from_str(&format!("http://127.0.0.1:{}", b.addr.port())).unwrap(),
    );
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
    b.shutdown().await;
}

#[tokio::test]
async fn commands_answer_like_the_window_and_errors_carry_the_field() {
    let (_d, e) = engine().await;
    let b = bridge::start(e, 0).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(b.ws_url()).await.unwrap();

    let info = call(&mut ws, 1, json!({"cmd": "app_info"})).await;
    assert_eq!(info["result"]["mode"], "demo");
    assert_eq!(info["result"]["version"], env!("CARGO_PKG_VERSION"));

    let errs = call(&mut ws, 2, json!({"cmd": "wizard_validate", "args": {"step": "organisation", "answers": {"organisation": {"name": "A"}}}})).await;
    assert_eq!(errs["result"][0]["field"], "organisation.name");
    assert_eq!(
        errs["result"][0]["message"],
        "The organisation name needs at least 2 characters."
    );

    let bad = call(&mut ws, 3, json!({"cmd": "no_such_command"})).await;
    assert_eq!(bad["error"]["code"], "bad_request");

    // Draft round trip over the bridge.
    let mut answers = call(&mut ws, 4, json!({"cmd": "wizard_defaults"})).await["result"].clone();
    answers["organisation"]["name"] = json!("Omantel");
    call(&mut ws, 5, json!({"cmd": "draft_save", "args": answers})).await;
    let draft = call(&mut ws, 6, json!({"cmd": "draft_load"})).await;
    assert_eq!(draft["result"]["organisation"]["name"], "Omantel");
    b.shutdown().await;
}

#[tokio::test]
async fn engine_events_reach_every_connected_client_in_order() {
    let (_d, e) = engine().await;
    let b = bridge::start(e.clone(), 0).await.unwrap();
    let (mut ws1, _) = tokio_tungstenite::connect_async(b.ws_url()).await.unwrap();
    let (mut ws2, _) = tokio_tungstenite::connect_async(b.ws_url()).await.unwrap();
    // A round trip makes sure both sessions are subscribed before publishing.
    call(&mut ws1, 1, json!({"cmd": "app_info"})).await;
    call(&mut ws2, 1, json!({"cmd": "app_info"})).await;
    for seq in 1..=5u64 {
        e.events().publish(ProvisionEvent {
            deployment_id: "dep-1".into(),
            seq,
            at: "2026-11-22T00:00:00Z".into(),
            phase: Phase::Preflight,
            kind: EventKind::Progress {
                done: seq,
                total: 5,
                label: "checking".into(),
            },
        });
    }
    for ws in [&mut ws1, &mut ws2] {
        for want in 1..=5u64 {
            let v: Value =
                serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
            assert_eq!(v["type"], "event");
            assert_eq!(v["name"], "provision");
            assert_eq!(v["payload"]["seq"], want);
            assert_eq!(v["payload"]["kind"]["type"], "progress");
        }
    }
    b.shutdown().await;
}

#[tokio::test]
async fn serves_the_built_ui_with_a_strict_csp() {
    let (_d, e) = engine().await;
    let b = bridge::start(e, 0).await.unwrap();
    let (status, head, body) = http_get(b.addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.to_ascii_lowercase().contains("<!doctype html"), "{body}");
    assert!(head.contains("content-type: text/html"), "{head}");
    let csp = head
        .lines()
        .find(|l| l.starts_with("content-security-policy:"))
        .expect("CSP header")
        .to_owned();
    assert!(csp.contains("default-src 'self'"));
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        !csp.contains("https:") && !csp.contains("*"),
        "no remote origins: {csp}"
    );
    // Client-side routes fall back to the page; missing assets are 404s.
    assert_eq!(http_get(b.addr, "/deployments").await.0, 200);
    assert_eq!(http_get(b.addr, "/assets/missing.js").await.0, 404);
    b.shutdown().await;
}
