//! The websocket bridge: the engine's commands and events as JSON over a
//! loopback websocket (tokio-tungstenite), plus the built UI over HTTP, so the
//! same UI runs in a browser. Bound to 127.0.0.1 only; every websocket must
//! present the per-launch token, and browsers must come from our own origin.
//!
//! Limits (see [`Limits`]): an HTTP connection must send its request head
//! within 10 s; at most 16 websocket sessions at once (the next upgrade gets
//! 503); at most 32 calls in flight per session, after which the reader stops
//! reading frames until one finishes; frames over 1 MiB close the session.
//! An upgraded websocket that sends nothing is never timed out: the UI may sit
//! idle for hours while a run streams events to it.

use crate::engine::ErrorCode;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use ts_rs::TS;

use crate::api::{Call, dispatch};
use crate::engine::events::ProvisionEvent;
use crate::engine::{ApiError, Engine};

/// A request from a bridge client.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct BridgeRequest {
    /// Chosen by the client; echoed in the reply.
    pub id: u32,
    /// `{"cmd": name, "args": ...}` as in `Commands`.
    #[ts(type = "{ cmd: CommandName; args?: JsonValue }")]
    pub call: serde_json::Value,
}

/// Everything the bridge sends.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Reply {
        id: u32,
        #[ts(type = "JsonValue")]
        result: Option<serde_json::Value>,
        error: Option<ApiError>,
    },
    Event {
        name: String,
        payload: ProvisionEvent,
    },
}

#[derive(rust_embed::RustEmbed)]
#[folder = "../ui/dist"]
struct UiAssets;

/// What one bridge allows; `Limits::default()` is what `start` uses.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time for a connection to send a complete request head.
    pub handshake_timeout: Duration,
    /// Websocket sessions open at once (a browser tab or the CLI each hold one).
    pub max_sessions: usize,
    /// Calls in flight per session before the reader stops reading frames.
    pub max_in_flight: usize,
    /// Largest websocket message (and frame) accepted, in bytes.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            max_sessions: 16,
            max_in_flight: 32,
            max_message: 1 << 20,
        }
    }
}

impl Limits {
    fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
    }
}

struct Shared {
    engine: Arc<Engine>,
    token: String,
    port: u16,
    limits: Limits,
    sessions: Arc<Semaphore>,
}

/// A running bridge; dropping it does not stop it, `shutdown` does.
pub struct Bridge {
    pub addr: SocketAddr,
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Bridge {
    /// The address to open in a browser: the token travels in the fragment,
    /// which browsers never send to a server or put in a Referer.
    pub fn browser_url(&self) -> String {
        format!("http://{}/#token={}", self.addr, self.token)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws?token={}", self.addr, self.token)
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }

    /// Waits until the server stops (Ctrl-C in `--serve`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts the bridge on 127.0.0.1:`port` (0 picks a free port).
pub async fn start(engine: Arc<Engine>, port: u16) -> std::io::Result<Bridge> {
    start_with_limits(engine, port, Limits::default()).await
}

/// `start` with other limits (tests shrink them).
pub async fn start_with_limits(engine: Arc<Engine>, port: u16, limits: Limits) -> std::io::Result<Bridge> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let token = new_token();
    let shared = Arc::new(Shared {
        engine,
        token: token.clone(),
        port: addr.port(),
        sessions: Arc::new(Semaphore::new(limits.max_sessions)),
        limits,
    });
    let handshake_timeout = shared.limits.handshake_timeout;
    let app = Router::new()
        .route("/ws", get(ws_upgrade))
        .fallback(get(static_asset))
        .with_state(shared);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, handshake_timeout, stop_rx));
    tracing::info!(%addr, "bridge listening");
    Ok(Bridge {
        addr,
        token,
        stop: Some(stop_tx),
        task,
    })
}

/// Our own accept loop rather than `axum::serve`, which has no way to set
/// hyper's header read timeout: a connection that never finishes its request
/// head would otherwise hold a socket and a task forever.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    handshake_timeout: Duration,
    mut stop_rx: oneshot::Receiver<()>,
) {
    let (draining_tx, draining_rx) = watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (tcp, _) = tokio::select! {
            _ = &mut stop_rx => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors and the like: pause instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "bridge accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Reap finished connections so the set does not grow with every request.
        while conns.try_join_next().is_some() {}
        let service = TowerToHyperService::new(app.clone());
        let mut draining = draining_rx.clone();
        conns.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(handshake_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = draining.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "bridge connection ended");
            }
        });
    }
    // Requests under way finish; idle keep-alive connections close now.
    let _ = draining_tx.send(true);
    while conns.join_next().await.is_some() {}
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn origin_allowed(headers: &HeaderMap, port: u16) -> bool {
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        // Non-browser clients (the CLI, tests) send no Origin.
        None => true,
        Some(o) => o == format!("http://127.0.0.1:{port}") || o == format!("http://localhost:{port}"),
    }
}

async fn ws_upgrade(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TokenQuery>,
    mut req: Request,
) -> Response {
    let given = q.token.unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(shared.token.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "a valid bridge token is required").into_response();
    }
    if !origin_allowed(req.headers(), shared.port) {
        return (StatusCode::FORBIDDEN, "cross-origin websocket refused").into_response();
    }
    let headers = req.headers();
    let is_upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return (StatusCode::BAD_REQUEST, "websocket handshake expected").into_response();
    };
    if !is_upgrade {
        return (StatusCode::BAD_REQUEST, "websocket handshake expected").into_response();
    }
    // The slot is held by the session task and freed when it ends.
    let Ok(slot) = shared.sessions.clone().try_acquire_owned() else {
        let msg = format!(
            "the bridge already has {} websocket sessions open; close a browser tab and retry",
            shared.limits.max_sessions
        );
        return (StatusCode::SERVICE_UNAVAILABLE, msg).into_response();
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let engine = shared.engine.clone();
    let limits = shared.limits.clone();
    tokio::spawn(async move {
        let _slot = slot;
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(limits.ws_config()),
                )
                .await;
                let events = engine.events().subscribe();
                let handler = move |call: Call| {
                    let engine = engine.clone();
                    async move { dispatch(&engine, call).await }
                };
                session(ws, events, limits.max_in_flight, handler).await;
            }
            Err(e) => tracing::warn!(error = %e, "websocket upgrade failed"),
        }
    });
    let accept = derive_accept_key(key.as_bytes());
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn reply_message(id: u32, reply: Result<serde_json::Value, ApiError>) -> ServerMessage {
    match reply {
        Ok(v) => ServerMessage::Reply {
            id,
            result: Some(v),
            error: None,
        },
        Err(e) => ServerMessage::Reply {
            id,
            result: None,
            error: Some(e),
        },
    }
}

/// Reads a frame as a request, or says why not with the id it carries (0
/// when there is none), so the client's pending call is answered, not lost.
fn parse_request(text: &str) -> Result<(u32, Call), (u32, String)> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| (0, format!("the frame is not JSON: {e}")))?;
    let id = value
        .get("id")
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0);
    let req: BridgeRequest =
        serde_json::from_value(value).map_err(|e| (id, format!("not a bridge request: {e}")))?;
    let call = serde_json::from_value::<Call>(req.call)
        .map_err(|e| (req.id, format!("unknown or malformed command: {e}")))?;
    Ok((req.id, call))
}

fn to_frame(msg: &ServerMessage) -> Option<Message> {
    serde_json::to_string(msg).ok().map(Message::text)
}

/// One websocket client: requests are answered concurrently (at most
/// `max_in_flight` at once), events are forwarded as they are published.
/// Every queue is bounded, so a client that floods or stops reading costs a
/// fixed amount of memory: the reader waits for a free call slot, the calls
/// wait for room in the writer's queue, and the writer waits on the socket.
async fn session<S, H, F>(
    ws: WebSocketStream<S>,
    mut events: broadcast::Receiver<ProvisionEvent>,
    max_in_flight: usize,
    handler: H,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(Call) -> F,
    F: std::future::Future<Output = Result<serde_json::Value, ApiError>> + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(256);

    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            let closing = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let ev_tx = out_tx.clone();
    let forwarder = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(payload) => {
                    let msg = ServerMessage::Event {
                        name: "provision".into(),
                        payload,
                    };
                    let Some(frame) = to_frame(&msg) else { continue };
                    if ev_tx.send(frame).await.is_err() {
                        break;
                    }
                }
                // A slow client skips ahead; it re-reads history by seq.
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "bridge client lagged behind events");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });

    let in_flight = Arc::new(Semaphore::new(max_in_flight));
    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t.to_string(),
            Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Message::Close(_)) => break,
            Err(tokio_tungstenite::tungstenite::Error::Capacity(e)) => {
                tracing::warn!(error = %e, "bridge frame too large; closing the session");
                let close = CloseFrame {
                    code: CloseCode::Size,
                    reason: "frames over the bridge's size limit are refused".into(),
                };
                let _ = out_tx.send(Message::Close(Some(close))).await;
                break;
            }
            Err(_) => break,
            Ok(_) => continue,
        };
        let (id, call) = match parse_request(&text) {
            Ok(r) => r,
            Err((id, why)) => {
                tracing::warn!(id, "unreadable bridge request");
                let reply = reply_message(id, Err(ApiError::new(ErrorCode::BadRequest, why)));
                if let Some(frame) = to_frame(&reply)
                    && out_tx.send(frame).await.is_err()
                {
                    break;
                }
                continue;
            }
        };
        // Back-pressure: no free slot, no more reading until a call finishes.
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let tx = out_tx.clone();
        let fut = handler(call);
        tokio::spawn(async move {
            let _permit: OwnedSemaphorePermit = permit;
            let msg = reply_message(id, fut.await);
            if let Some(frame) = to_frame(&msg) {
                let _ = tx.send(frame).await;
            }
        });
    }
    forwarder.abort();
    drop(out_tx);
    let _ = writer.await;
}

/// The built UI. Unknown paths without an extension get `index.html` so a
/// reload on a client-side route works.
async fn static_asset(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let (file, name) = match UiAssets::get(path) {
        Some(f) => (f, path),
        None if !path.rsplit('/').next().unwrap_or("").contains('.') => match UiAssets::get("index.html") {
            Some(f) => (f, "index.html"),
            None => return (StatusCode::NOT_FOUND, "UI not built").into_response(),
        },
        None => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self' ws://127.0.0.1:{p} ws://localhost:{p}; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'",
        p = shared.port
    );
    let mut resp = Response::new(Body::from(file.data.into_owned()));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let cache = if name == "index.html" {
        "no-store"
    } else {
        "public, max-age=31536000, immutable"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Calls that never finish until released: the session must hold at most
    /// `max_in_flight` of them and stop reading the rest, then answer them all.
    #[tokio::test]
    async fn a_session_runs_at_most_max_in_flight_calls_and_then_stops_reading() {
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        let server = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let (_events_tx, events_rx) = broadcast::channel(4);
        let started = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Semaphore::new(0));
        let (s, r) = (started.clone(), release.clone());
        let handler = move |_call: Call| {
            let (s, r) = (s.clone(), r.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                let _ = r.acquire().await.map(|p| p.forget());
                Ok(serde_json::json!("done"))
            }
        };
        let task = tokio::spawn(session(server, events_rx, 4, handler));
        for id in 1..=20u32 {
            let frame = serde_json::json!({"id": id, "call": {"cmd": "app_info"}}).to_string();
            client.send(Message::text(frame)).await.unwrap();
        }
        tokio::time::timeout(Duration::from_secs(20), async {
            while started.load(Ordering::SeqCst) < 4 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("four calls start");
        // Give a reader that ignored the cap every chance to start more.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            started.load(Ordering::SeqCst),
            4,
            "no more than max_in_flight at once"
        );
        release.add_permits(20);
        let mut ids = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), async {
            while ids.len() < 20 {
                let msg = client.next().await.unwrap().unwrap();
                let v: serde_json::Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
                assert_eq!(v["result"], "done", "{v}");
                ids.push(v["id"].as_u64().unwrap());
            }
        })
        .await
        .expect("every call is answered once released");
        ids.sort();
        assert_eq!(ids, (1..=20).collect::<Vec<u64>>());
        assert_eq!(started.load(Ordering::SeqCst), 20);
        client.close(None).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn a_malformed_frame_is_answered_with_its_id_or_zero() {
        let id_of = |text: &str| parse_request(text).map(|_| ()).expect_err(text).0;
        assert_eq!(id_of("not json"), 0);
        assert_eq!(id_of(r#"{"call": {"cmd": "app_info"}}"#), 0);
        assert_eq!(id_of(r#"{"id": 7}"#), 7);
        assert_eq!(id_of(r#"{"id": 8, "call": {"cmd": "no_such_command"}}"#), 8);
        assert_eq!(id_of(r#"{"id": 99999999999, "call": 1}"#), 0);
        assert!(parse_request(r#"{"id": 9, "call": {"cmd": "app_info"}}"#).is_ok());
    }
}
