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
    assert_eq!(draft["result"]["answers"]["organisation"]["name"], "Omantel");
    assert_eq!(draft["result"]["checked_in"], "demo");
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
            region: None,
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

/// The process's resident set in KiB, from /proc (Linux only; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

async fn read_until_closed(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    buf
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_request_is_closed() {
    let (_d, e) = engine().await;
    let b = bridge::start(e, 0).await.unwrap();
    // One says nothing, one stops half-way through its request head.
    let mut silent = tokio::net::TcpStream::connect(b.addr).await.unwrap();
    let mut partial = tokio::net::TcpStream::connect(b.addr).await.unwrap();
    partial.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let bound = std::time::Duration::from_secs(20);
    let (a, c) = tokio::time::timeout(bound, async {
        tokio::join!(read_until_closed(&mut silent), read_until_closed(&mut partial))
    })
    .await
    .expect("the bridge closes both within the handshake timeout");
    assert!(!String::from_utf8_lossy(&a).contains("200 OK"));
    assert!(!String::from_utf8_lossy(&c).contains("200 OK"));
    // The bridge still serves everyone else.
    assert_eq!(http_get(b.addr, "/").await.0, 200);
    b.shutdown().await;
}

#[tokio::test]
async fn an_idle_websocket_outlives_the_handshake_timeout() {
    let (_d, e) = engine().await;
    let limits = bridge::Limits {
        handshake_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let b = bridge::start_with_limits(e, 0, limits).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(b.ws_url()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let info = call(&mut ws, 1, json!({"cmd": "app_info"})).await;
    assert_eq!(info["result"]["mode"], "demo");
    b.shutdown().await;
}

#[tokio::test]
async fn an_oversized_frame_closes_the_session() {
    let (_d, e) = engine().await;
    let b = bridge::start(e, 0).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(b.ws_url()).await.unwrap();
    let huge = format!(
        r#"{{"id": 1, "call": {{"cmd": "app_info", "args": "{}"}}}}"#,
        "x".repeat(2 << 20)
    );
    let _ = ws.send(Message::text(huge)).await;
    let end = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the session ends");
    if let Some(code) = end {
        assert_eq!(code, 1009, "message too big");
    }
    // Another session is unaffected.
    let (mut ws2, _) = tokio_tungstenite::connect_async(b.ws_url()).await.unwrap();
    assert_eq!(
        call(&mut ws2, 2, json!({"cmd": "app_info"})).await["result"]["mode"],
        "demo"
    );
    b.shutdown().await;
}

/// Every limit at once: the session cap, malformed frames answered, valid
/// calls answered under a flood, slots freed on close, and memory measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_on_every_session_is_answered_and_memory_comes_back() {
    const SESSIONS: usize = 16;
    const FRAMES: u32 = 1200;
    let (_d, e) = engine().await;
    let b = bridge::start(e, 0).await.unwrap();
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        sessions.push(tokio_tungstenite::connect_async(b.ws_url()).await.unwrap().0);
    }
    // One more is refused with a sentence saying why.
    match tokio_tungstenite::connect_async(b.ws_url()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503);
            let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned();
            assert!(body.contains("16 websocket sessions"), "{body}");
        }
        other => panic!("the 17th session must be refused: {:?}", other.map(|_| ())),
    }

    let before = rss_kib();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
    };
    let junk = "j".repeat(32 * 1024);
    let mut floods = Vec::new();
    for ws in sessions {
        let junk = junk.clone();
        floods.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            // Frame i: valid, unknown command, no call, not JSON at all.
            let sender = tokio::spawn(async move {
                for i in 1..=FRAMES {
                    let text = match i % 4 {
                        0 => json!({"id": i, "call": {"cmd": "app_info"}}).to_string(),
                        1 => json!({"id": i, "call": {"cmd": "no_such_command"}}).to_string(),
                        2 => json!({"id": i, "junk": junk}).to_string(),
                        _ => format!("not json {junk}"),
                    };
                    tx.send(Message::text(text)).await.unwrap();
                }
                tx
            });
            let (mut ok, mut bad_with_id, mut bad_without_id) = (0u32, 0u32, 0u32);
            while ok + bad_with_id + bad_without_id < FRAMES {
                let msg = rx.next().await.unwrap().unwrap();
                let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
                if v["type"] != "reply" {
                    continue;
                }
                let id = v["id"].as_u64().unwrap() as u32;
                if id != 0 && id.is_multiple_of(4) {
                    assert_eq!(v["result"]["mode"], "demo", "{v}");
                    ok += 1;
                } else {
                    assert_eq!(v["error"]["code"], "bad_request", "{v}");
                    assert!(v["result"].is_null());
                    if id == 0 {
                        bad_without_id += 1;
                    } else {
                        assert!(id % 4 == 1 || id % 4 == 2, "{v}");
                        bad_with_id += 1;
                    }
                }
            }
            assert_eq!(
                (ok, bad_with_id, bad_without_id),
                (FRAMES / 4, FRAMES / 2, FRAMES / 4)
            );
            let mut ws = sender.await.unwrap().reunite(rx).unwrap();
            ws.close(None).await.unwrap();
            while let Some(Ok(_)) = ws.next().await {}
        }));
    }
    tokio::time::timeout(std::time::Duration::from_secs(120), async {
        for f in floods {
            f.await.unwrap();
        }
    })
    .await
    .expect("every frame of the flood is answered");
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.await.unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);

    // Closed sessions free their slots: all sixteen can be opened again.
    let reopened = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        let mut open = Vec::new();
        while open.len() < SESSIONS {
            match tokio_tungstenite::connect_async(b.ws_url()).await {
                Ok((ws, _)) => open.push(ws),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        open
    })
    .await
    .expect("closed sessions free their slots");
    drop(reopened);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let after = rss_kib();
    eprintln!(
        "bridge flood RSS: before {before} KiB, peak {peak} KiB, 2 s after {after} KiB \
         ({SESSIONS} sessions x {FRAMES} frames, half of them 32 KiB)"
    );
    b.shutdown().await;
}
