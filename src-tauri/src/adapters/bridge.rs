//! The websocket bridge: the engine's commands and events as JSON over a
//! loopback websocket (tokio-tungstenite), plus the built UI over HTTP, so the
//! same UI runs in a browser. Bound to 127.0.0.1 only; every websocket must
//! present the per-launch token, and browsers must come from our own origin.

use crate::engine::ErrorCode;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
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

struct Shared {
    engine: Arc<Engine>,
    token: String,
    port: u16,
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
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let token = new_token();
    let shared = Arc::new(Shared {
        engine,
        token: token.clone(),
        port: addr.port(),
    });
    let app = Router::new()
        .route("/ws", get(ws_upgrade))
        .fallback(get(static_asset))
        .with_state(shared);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "bridge stopped");
        }
    });
    tracing::info!(%addr, "bridge listening");
    Ok(Bridge {
        addr,
        token,
        stop: Some(stop_tx),
        task,
    })
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
    let on_upgrade = hyper::upgrade::on(&mut req);
    let engine = shared.engine.clone();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
                session(engine, ws).await;
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

/// One websocket client: requests are answered concurrently, events are
/// forwarded as they are published.
async fn session<S>(engine: Arc<Engine>, ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<ServerMessage>(1024);
    let mut events = engine.events().subscribe();

    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            let Ok(text) = serde_json::to_string(&msg) else {
                continue;
            };
            if sink.send(Message::text(text)).await.is_err() {
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
                    if ev_tx.send(msg).await.is_err() {
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

    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t.to_string(),
            Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let req: BridgeRequest = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable bridge request");
                continue;
            }
        };
        let engine = engine.clone();
        let tx = out_tx.clone();
        tokio::spawn(async move {
            let reply = match serde_json::from_value::<Call>(req.call) {
                Ok(call) => dispatch(&engine, call).await,
                Err(e) => Err(ApiError::new(
                    ErrorCode::BadRequest,
                    format!("unknown or malformed command: {e}"),
                )),
            };
            let msg = match reply {
                Ok(v) => ServerMessage::Reply {
                    id: req.id,
                    result: Some(v),
                    error: None,
                },
                Err(e) => ServerMessage::Reply {
                    id: req.id,
                    result: None,
                    error: Some(e),
                },
            };
            let _ = tx.send(msg).await;
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
