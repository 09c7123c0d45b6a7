//! Fake pool-domain-manager. Stands in for OpenOva's PDM (`core/pool-domain-manager`,
//! reached at https://pool.openova.io behind a Traefik basic-auth middleware), which
//! this machine cannot reach. It speaks PDM's HTTP API as reference §5 describes it:
//! `/healthz`, `/api/v1/reserved`, `/api/v1/pool/{domain}/{check,reserve,commit,release,list}`
//! and `/api/v1/registrar/{r}/{validate,set-ns}`, with the same status codes and
//! `error`/`reason` codes, the free -> reserved -> active state machine, the
//! reservation TTL, the 202 "PowerDNS write failed" warnings, and basic auth (a
//! bare-text 401 like Traefik's). Registrar answers are scripted per registrar.
//! PowerDNS is modelled as the canonical 6-record set per committed name.

// The helpers' early exits are ready `Response`s handed straight back by the
// handlers; boxing them would only add noise to a test double.
#![allow(clippy::result_large_err)]

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// One module per concern; the children share this module's imports and each
// other's items through `use super::*`, as the single file they came from did.
mod pool;
mod registrar;
mod requests;
mod rows;

use pool::*;
use registrar::*;
use requests::*;
use rows::*;

/// PDM's reserved labels (`pdm/internal/reserved/reserved.go`).
pub const RESERVED: [&str; 21] = [
    "api", "admin", "console", "gitea", "harbor", "keycloak", "www", "mail", "smtp", "imap", "vpn",
    "openova", "catalyst", "docs", "status", "app", "system", "openbao", "vault", "flux", "k8s",
];

/// The records PDM's commit writes under a Sovereign's child zone.
/// A Cloudflare API token of the right shape (40 characters), which the fake's
/// registrar accepts.
pub const CLOUDFLARE_TOKEN: &str = "Zx9_aB3-cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX";

pub const CANONICAL_RECORDS: [&str; 6] = ["@", "*", "console", "api", "gitea", "harbor"];

#[derive(Debug, Clone)]
pub struct FakePdmConfig {
    pub username: String,
    pub password: String,
    /// Managed pools; anything else is `unsupported-pool`.
    pub pools: Vec<String>,
    /// `PDM_RESERVATION_TTL` (PDM's default is 10 minutes).
    pub ttl: Duration,
    /// Registrar adapters wired in; empty means "no registry wired" (503).
    pub registrars: Vec<String>,
}

impl Default for FakePdmConfig {
    fn default() -> Self {
        FakePdmConfig {
            username: "catalyst".into(),
            password: "pdm-fake-password-0001".into(),
            pools: [
                "omani.works",
                "omani.homes",
                "omani.rest",
                "omani.trade",
                "omantel.biz",
            ]
            .map(String::from)
            .to_vec(),
            ttl: Duration::from_secs(600),
            registrars: ["cloudflare", "namecheap", "godaddy", "ovh", "dynadot"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// What a scripted registrar answers (the adapter errors of reference §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarOutcome {
    Ok,
    InvalidToken,
    RateLimited,
    DomainNotInAccount,
    ApiUnavailable,
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeState {
    Reserved,
    Active,
}

/// One `pool_allocations` row.
#[derive(Debug, Clone)]
pub struct FakeAllocation {
    pub pool: String,
    pub subdomain: String,
    pub state: FakeState,
    pub reserved_at: String,
    pub expires_at: Option<String>,
    pub token: String,
    pub created_by: String,
    pub fqdn: Option<String>,
    pub lb_ip: Option<String>,
    expires: Option<Instant>,
}

impl FakeAllocation {
    fn expired(&self, now: Instant) -> bool {
        self.state == FakeState::Reserved && self.expires.is_some_and(|e| e <= now)
    }

    fn to_json(&self) -> Value {
        json!({
            "poolDomain": self.pool,
            "subdomain": self.subdomain,
            "state": match self.state { FakeState::Reserved => "reserved", FakeState::Active => "active" },
            "reservedAt": self.reserved_at,
            "expiresAt": self.expires_at,
            "reservationToken": self.token,
            "createdBy": self.created_by,
            "sovereignFQDN": self.fqdn,
            "loadBalancerIP": self.lb_ip,
        })
    }
}

struct Inner {
    cfg: FakePdmConfig,
    rows: BTreeMap<(String, String), FakeAllocation>,
    /// PowerDNS: fqdn -> (record name, IP).
    dns: BTreeMap<String, Vec<(String, String)>>,
    dns_failure: bool,
    store_failure: bool,
    race_after_expired_commit: bool,
    scripts: HashMap<String, RegistrarOutcome>,
    nameservers: HashMap<String, Vec<String>>,
    last_tokens: HashMap<String, String>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct FakePdm {
    addr: SocketAddr,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakePdm {
    /// Serves on 127.0.0.1 with an OS-chosen port.
    pub async fn start(config: FakePdmConfig) -> FakePdm {
        let state: Shared = Arc::new(Mutex::new(Inner {
            cfg: config,
            rows: BTreeMap::new(),
            dns: BTreeMap::new(),
            dns_failure: false,
            store_failure: false,
            race_after_expired_commit: false,
            scripts: HashMap::new(),
            nameservers: HashMap::new(),
            last_tokens: HashMap::new(),
            requests: Vec::new(),
        }));
        let app = Router::new()
            .route("/healthz", get(healthz))
            .route("/api/v1/reserved", get(reserved))
            .route("/api/v1/pool/{domain}/check", get(check))
            .route("/api/v1/pool/{domain}/reserve", post(reserve))
            .route("/api/v1/pool/{domain}/commit", post(commit))
            .route("/api/v1/pool/{domain}/release", delete(release))
            .route("/api/v1/pool/{domain}/list", get(list))
            .route("/api/v1/registrar/{registrar}/validate", post(registrar_validate))
            .route("/api/v1/registrar/{registrar}/set-ns", post(registrar_set_ns))
            .layer(middleware::from_fn_with_state(state.clone(), basic_auth))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake PDM");
        let addr = listener.local_addr().expect("fake PDM address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakePdm {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn username(&self) -> String {
        lock(&self.state).cfg.username.clone()
    }

    pub fn password(&self) -> String {
        lock(&self.state).cfg.password.clone()
    }

    /// Every row, expired or not (the sweeper has not necessarily run).
    pub fn allocations(&self) -> Vec<FakeAllocation> {
        lock(&self.state).rows.values().cloned().collect()
    }

    pub fn allocation(&self, pool: &str, sub: &str) -> Option<FakeAllocation> {
        lock(&self.state)
            .rows
            .get(&(pool.to_owned(), sub.to_owned()))
            .cloned()
    }

    /// The A records PowerDNS holds for `fqdn`: (name, IP).
    pub fn dns_records(&self, fqdn: &str) -> Vec<(String, String)> {
        lock(&self.state).dns.get(fqdn).cloned().unwrap_or_default()
    }

    /// TTL for reservations made from now on.
    pub fn set_ttl(&self, ttl: Duration) {
        lock(&self.state).cfg.ttl = ttl;
    }

    /// Makes a reserved row expired now, as if the TTL had passed.
    pub fn expire_now(&self, pool: &str, sub: &str) {
        let mut s = lock(&self.state);
        if let Some(row) = s.rows.get_mut(&(pool.to_owned(), sub.to_owned()))
            && row.state == FakeState::Reserved
        {
            let now = Instant::now();
            row.expires = Some(now.checked_sub(Duration::from_millis(1)).unwrap_or(now));
            row.expires_at = Some(rfc3339(SystemTime::now()));
        }
    }

    /// One sweeper pass (`PDM_SWEEPER_INTERVAL`): deletes expired reserved rows.
    pub fn sweep(&self) {
        let now = Instant::now();
        lock(&self.state).rows.retain(|_, r| !r.expired(now));
    }

    /// Makes PowerDNS writes fail: commit and release answer 202 with a warning.
    pub fn set_dns_failure(&self, fail: bool) {
        lock(&self.state).dns_failure = fail;
    }

    /// Makes the Postgres store fail: check answers 500.
    pub fn set_store_failure(&self, fail: bool) {
        lock(&self.state).store_failure = fail;
    }

    /// After the next 410 `reservation-expired`, another operator's reserve
    /// lands before anyone else's: the window in which a run loses its name.
    pub fn race_after_expired_commit(&self, on: bool) {
        lock(&self.state).race_after_expired_commit = on;
    }

    pub fn script_registrar(&self, registrar: &str, outcome: RegistrarOutcome) {
        lock(&self.state).scripts.insert(registrar.to_owned(), outcome);
    }

    /// Nameservers a successful set-ns left on `domain`.
    pub fn nameservers(&self, domain: &str) -> Option<Vec<String>> {
        lock(&self.state).nameservers.get(domain).cloned()
    }

    /// The `token` the last call to `registrar` carried.
    pub fn last_registrar_token(&self, registrar: &str) -> Option<String> {
        lock(&self.state).last_tokens.get(registrar).cloned()
    }

    /// "METHOD /path?query" of every request that reached the server, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    /// Another operator reserves a name (direct row insert, as their reserve would).
    pub fn reserve_as_other(&self, pool: &str, sub: &str) -> String {
        let mut s = lock(&self.state);
        let row = new_row(&s.cfg, pool, sub, "someone-else");
        let token = row.token.clone();
        s.rows.insert((pool.to_owned(), sub.to_owned()), row);
        token
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakePdm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096) + Duration::from_nanos(5);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.000000005Z");
    }

    #[test]
    fn tokens_are_v4_uuids_and_unique() {
        let mut seen = std::collections::HashSet::new();
        // Many draws, since the version and variant bits are masked into random values.
        for _ in 0..500 {
            let t = uuid();
            assert_eq!(t.len(), 36);
            assert_eq!(&t[14..15], "4", "{t}");
            assert!(matches!(&t[19..20], "8" | "9" | "a" | "b"), "{t}");
            assert!(seen.insert(t));
        }
    }
}
