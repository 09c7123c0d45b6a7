//! Fake Hetzner Cloud API. Stands in for `https://api.hetzner.cloud/v1`
//! (the endpoint the app's client and the hcloud OpenTofu provider talk to,
//! overridable with `HCLOUD_ENDPOINT`), which the test machine cannot reach.
//!
//! It speaks the real wire format for what the app and the module use:
//! bearer tokens with scopes (read-write, read-only, invalid), servers,
//! networks (+ subnets), firewalls, ssh_keys, load_balancers (+ services,
//! targets, network attachment as actions), volumes, primary_ips,
//! floating_ips, actions, locations, server_types, load_balancer_types and
//! pricing; label selectors; `page`/`per_page` pagination with
//! `meta.pagination`; the project rate limit with `RateLimit-*` headers and
//! 429 `rate_limit_exceeded`; the error object `{"error":{code,message,
//! details}}` with Hetzner's codes; scripted faults; the quirk that a deleted
//! object stays listed for a while; a firewall that cannot be deleted while a
//! server holds it; the actions the hcloud provider's updates use (server
//! power, change_type, network attach and detach, change_protection, the
//! load balancer's update_service, change_type, change_algorithm and public
//! interface). `GET /__inventory` (and `FakeHetzner::inventory`) dumps every
//! object that exists, so tests can prove what is there.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

// One module per concern; the children share this module's imports and each
// other's items through `use super::*`, as the single file they came from did.
mod actions;
mod catalog;
mod fields;
mod firewalls;
mod load_balancers;
mod networks;
mod replies;
mod routing;
mod selectors;
mod servers;
mod ssh_keys;
mod state;
mod volumes_ips;

use actions::*;
use catalog::*;
use fields::*;
use firewalls::*;
use load_balancers::*;
use networks::*;
use replies::*;
use routing::*;
use selectors::*;
use servers::*;
use ssh_keys::*;
use state::*;
use volumes_ips::*;

// ---------------------------------------------------------------- config

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokenKind {
    ReadWrite,
    ReadOnly,
    /// A token Hetzner knows but no longer accepts (deleted, revoked).
    Invalid,
}

#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Tokens and their scopes; any other token is unknown (401).
    pub tokens: Vec<(String, TokenKind)>,
    /// How long a deleted object stays listed (Hetzner's lag). 0 in tests
    /// unless a test asks for the quirk.
    pub linger: Duration,
    /// `RateLimit-Limit`: the bucket size (Hetzner: 3600 per project).
    pub rate_limit: u32,
    /// One request comes back into the bucket per this interval (Hetzner: 1 s).
    pub rate_refill: Duration,
    /// The code a read-only token gets on a write: `token_readonly`
    /// (current API) or `forbidden` (older).
    pub readonly_code: &'static str,
    /// Project server limit; creating beyond it is `resource_limit_exceeded`.
    pub server_limit: usize,
    /// `per_page` when the caller gives none (Hetzner: 25; maximum 50).
    pub default_per_page: u64,
    /// Every DELETE answers only after this long (a slow API, so a test can
    /// kill a wipe half-way).
    pub delete_delay: Duration,
    /// A server's `create_server` action stays `running` this long (the
    /// server exists at once, as at Hetzner, while it boots), so a provider
    /// waiting on it is mid-create: a test can kill the app there.
    pub server_create_delay: Duration,
}

/// Tokens shaped like Hetzner's (64 letters and digits), which the app checks locally first.
pub const RW_TOKEN: &str = "fakeRWtoken0123456789abcdef0123456789abcdef0123456789abcdef01234";
pub const RO_TOKEN: &str = "fakeROtoken0123456789abcdef0123456789abcdef0123456789abcdef01234";
pub const REVOKED_TOKEN: &str = "fakeREVOKEDtoken0123456789abcdef0123456789abcdef0123456789abcdef";

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            tokens: vec![
                (RW_TOKEN.into(), TokenKind::ReadWrite),
                (RO_TOKEN.into(), TokenKind::ReadOnly),
                (REVOKED_TOKEN.into(), TokenKind::Invalid),
            ],
            linger: Duration::ZERO,
            rate_limit: 3600,
            rate_refill: Duration::from_secs(1),
            readonly_code: "token_readonly",
            server_limit: 25,
            default_per_page: 25,
            delete_delay: Duration::ZERO,
            server_create_delay: Duration::ZERO,
        }
    }
}

// ---------------------------------------------------------------- faults

#[derive(Debug, Clone)]
pub enum FaultKind {
    /// 500 `server_error` with Hetzner's error object.
    ServerError,
    /// 502 with an HTML page and no error object, as a proxy sends it.
    BadGateway,
    /// 403 `resource_limit_exceeded` (quota), e.g. "server limit exceeded".
    ResourceLimitExceeded(String),
    /// 412 `resource_unavailable`, e.g. "server location disabled".
    ResourceUnavailable(String),
    /// 412 `placement_error` on server create.
    PlacementError,
    /// Any error object.
    Error {
        status: u16,
        code: String,
        message: String,
    },
}

/// A scripted fault: the next `times` requests matching method and path
/// prefix (after `/v1`) get `kind` instead of their answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<Method>,
    pub path_prefix: String,
    pub times: u32,
    pub kind: FaultKind,
}

impl Fault {
    pub fn new(method: Option<Method>, path_prefix: &str, times: u32, kind: FaultKind) -> Fault {
        Fault {
            method,
            path_prefix: path_prefix.to_owned(),
            times,
            kind,
        }
    }

    /// A burst of `n` 500s on every method of a path.
    pub fn server_errors(path_prefix: &str, n: u32) -> Fault {
        Fault::new(None, path_prefix, n, FaultKind::ServerError)
    }
}

// ---------------------------------------------------------------- records

#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path after `/v1`, e.g. `/servers/12`.
    pub path: String,
    pub query: String,
    pub status: u16,
    /// Whether the Authorization header carried a token (never the token).
    pub authenticated: bool,
    /// When it arrived (benchmarks time the road to the first create).
    #[serde(skip)]
    pub at: std::time::Instant,
}

/// Every object that exists (deleted-but-still-listed ones excluded), per
/// collection name (`servers`, `ssh_keys`, …).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub resources: BTreeMap<String, Vec<Value>>,
}

impl Inventory {
    pub fn count(&self, collection: &str) -> usize {
        self.resources.get(collection).map_or(0, Vec::len)
    }

    pub fn total(&self) -> usize {
        self.resources.values().map(Vec::len).sum()
    }

    pub fn names(&self, collection: &str) -> Vec<String> {
        self.resources
            .get(collection)
            .map(|v| {
                v.iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn find(&self, collection: &str, name: &str) -> Option<&Value> {
        self.resources
            .get(collection)?
            .iter()
            .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
    }
}

// ---------------------------------------------------------------- handle

type Shared = Arc<Mutex<FakeState>>;

fn lock(s: &Shared) -> MutexGuard<'_, FakeState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct FakeHetzner {
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeHetzner {
    /// Starts the fake on 127.0.0.1 with a free port.
    pub async fn start(config: FakeConfig) -> FakeHetzner {
        let state: Shared = Arc::new(Mutex::new(FakeState::new(config)));
        let app = Router::new()
            .route("/__inventory", axum::routing::get(inventory_route))
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the fake Hetzner API");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeHetzner {
            addr,
            state,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// The API root to configure the client with, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn inventory(&self) -> Inventory {
        let mut s = lock(&self.state);
        s.sweep();
        s.inventory()
    }

    /// The names of the servers that exist now, read at each call (the fake
    /// Kubernetes API lists them as the nodes that joined).
    pub fn server_names(&self) -> impl Fn() -> Vec<String> + Send + Sync + 'static {
        let state = self.state.clone();
        move || {
            let mut s = lock(&state);
            s.sweep();
            s.inventory()
                .resources
                .get("servers")
                .map_or_else(Vec::new, |servers| {
                    servers
                        .iter()
                        .filter_map(|v| v["name"].as_str().map(str::to_owned))
                        .collect()
                })
        }
    }

    /// (name, user_data) of every server created, in order.
    pub fn user_data(&self) -> Vec<(String, String)> {
        lock(&self.state).user_data.clone()
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state).log.clone()
    }

    /// Requests seen for a method and a path (after `/v1`), exactly.
    pub fn count(&self, method: &str, path: &str) -> usize {
        lock(&self.state)
            .log
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Requests answered with a status.
    pub fn count_status(&self, status: u16) -> usize {
        lock(&self.state)
            .log
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    /// Drops every scripted fault not used up yet.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Sets how many requests are left in the rate-limit bucket now.
    pub fn set_rate_limit_remaining(&self, remaining: u32) {
        let mut s = lock(&self.state);
        s.bucket.remaining = remaining.min(s.cfg.rate_limit);
        s.bucket.last_refill = Instant::now();
    }

    pub fn set_linger(&self, linger: Duration) {
        lock(&self.state).cfg.linger = linger;
    }

    pub fn set_delete_delay(&self, delay: Duration) {
        lock(&self.state).cfg.delete_delay = delay;
    }

    pub fn set_server_create_delay(&self, delay: Duration) {
        lock(&self.state).cfg.server_create_delay = delay;
    }

    pub fn set_server_limit(&self, limit: usize) {
        lock(&self.state).cfg.server_limit = limit;
    }

    /// Marks a server type as not orderable in a location ("server location
    /// disabled", as fsn1 was in late 2025).
    pub fn set_unavailable(&self, server_type: &str, location: &str) {
        lock(&self.state)
            .unavailable
            .push((server_type.to_owned(), location.to_owned()));
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for FakeHetzner {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn label_selectors_follow_hetzner_grammar() {
        let l = json!({"catalyst/deployment": "d1", "role": "cp", "env": "prod"});
        let m = |sel: &str| selector_matches(&parse_selector(sel).unwrap(), &l);
        assert!(m("catalyst/deployment=d1"));
        assert!(m("catalyst/deployment==d1,role"));
        assert!(m("!missing"));
        assert!(!m("!role"));
        assert!(m("role!=worker"));
        assert!(!m("role!=cp"));
        assert!(m("env in (prod,staging),role"));
        assert!(!m("env notin (prod)"));
        assert!(m("missing notin (x)"));
        assert!(!m("role=cp,env=dev"));
        assert!(parse_selector("a=(b").is_err());
        assert!(parse_selector(",").is_err());
        assert!(parse_selector("bad key=1").is_err());
    }

    #[test]
    fn base64_and_rfc3339_helpers() {
        assert_eq!(b64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(b64_decode("YQ==").unwrap(), b"a");
        assert!(b64_decode("YQ=").is_none());
        assert!(b64_decode("Y===").is_none());
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20+00:00"
        );
        assert_eq!(pct_decode("a%3Db%2C%21c+d"), "a=b,!c d");
        assert_eq!(pct_decode("%zz%"), "%zz%");
    }
}
