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

/// PDM's reserved labels (`pdm/internal/reserved/reserved.go`).
pub const RESERVED: [&str; 21] = [
    "api", "admin", "console", "gitea", "harbor", "keycloak", "www", "mail", "smtp", "imap", "vpn",
    "openova", "catalyst", "docs", "status", "app", "system", "openbao", "vault", "flux", "k8s",
];

/// The records PDM's commit writes under a Sovereign's child zone.
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

// ---------- helpers ----------

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    answer(status, json!({"error": code, "detail": detail}))
}

/// PDM's label rule: lower-cased, trimmed; 1–63 of [a-z0-9-]; no leading
/// digit or hyphen; no trailing hyphen.
fn label_ok(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A v4-shaped UUID; unique per process and unpredictable enough for a fake.
fn uuid() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    let a = h.finish();
    let mut h = RandomState::new().build_hasher();
    h.write_u64(a);
    let b = h.finish();
    let v = (u128::from(a) << 64) | u128::from(b);
    let v = (v & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let s = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// RFC 3339 in UTC with nanoseconds, as Go's `time.RFC3339Nano` writes it.
fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

fn new_row(cfg: &FakePdmConfig, pool: &str, sub: &str, created_by: &str) -> FakeAllocation {
    let now = SystemTime::now();
    FakeAllocation {
        pool: pool.to_owned(),
        subdomain: sub.to_owned(),
        state: FakeState::Reserved,
        reserved_at: rfc3339(now),
        expires_at: Some(rfc3339(now + cfg.ttl)),
        token: uuid(),
        created_by: created_by.to_owned(),
        fqdn: None,
        lb_ip: None,
        expires: Some(Instant::now() + cfg.ttl),
    }
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Traefik's basicAuth: a plain-text 401 with a challenge, no JSON.
async fn basic_auth(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let line = format!(
        "{} {}",
        req.method(),
        req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let expected = {
        let mut st = lock(&s);
        st.requests.push(line);
        format!(
            "Basic {}",
            base64(format!("{}:{}", st.cfg.username, st.cfg.password).as_bytes())
        )
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            [
                (header::WWW_AUTHENTICATE, "Basic realm=\"traefik\""),
                (header::CONTENT_TYPE, "text/plain"),
            ],
            "401 Unauthorized\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// Shared checks of the pool and label; Err is the 422 PDM answers.
fn pool_and_label(st: &Inner, pool: &str, sub: &str) -> Result<(String, String), Response> {
    let pool = norm(pool);
    let sub = norm(sub);
    if !label_ok(&sub) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-format",
            "subdomain must be 1-63 chars of [a-z0-9-], start with a letter and not end with a hyphen",
        ));
    }
    if !st.cfg.pools.contains(&pool) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported-pool",
            &format!("{pool} is not a managed pool domain"),
        ));
    }
    Ok((pool, sub))
}

fn json_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            problem(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                "request body is not a JSON object",
            )
        })
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}

// ---------- handlers ----------

async fn healthz(State(s): State<Shared>) -> Response {
    let st = lock(&s);
    if st.store_failure {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unhealthy", "db": "connection refused"}),
        );
    }
    answer(
        StatusCode::OK,
        json!({"status": "ok", "managedDomains": st.cfg.pools, "registrars": st.cfg.registrars}),
    )
}

async fn reserved() -> Response {
    let mut list = RESERVED.to_vec();
    list.sort_unstable();
    answer(StatusCode::OK, json!({ "reserved": list }))
}

async fn check(
    State(s): State<Shared>,
    Path(pool): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = lock(&s);
    let raw = q.get("sub").map(String::as_str).unwrap_or("");
    let (pool, sub) = (norm(&pool), norm(raw));
    // Check always answers 200 with a reason, except when the store fails.
    let unavailable = |reason: &str, detail: &str| {
        answer(
            StatusCode::OK,
            json!({"available": false, "reason": reason, "detail": detail}),
        )
    };
    if !label_ok(&sub) {
        return unavailable("invalid-format", "subdomain does not match the label rule");
    }
    if !st.cfg.pools.contains(&pool) {
        return unavailable("unsupported-pool", "pool domain is not managed by this PDM");
    }
    if RESERVED.contains(&sub.as_str()) {
        return unavailable("reserved", "this name is reserved");
    }
    if st.store_failure {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "store: connection refused"}),
        );
    }
    let fqdn = format!("{sub}.{pool}");
    match st.rows.get(&(pool, sub)) {
        Some(r) if r.state == FakeState::Active => answer(
            StatusCode::OK,
            json!({"available": false, "reason": "active-state", "detail": "already taken by a live Sovereign", "fqdn": fqdn}),
        ),
        Some(r) if !r.expired(Instant::now()) => answer(
            StatusCode::OK,
            json!({"available": false, "reason": "reserved-state", "detail": "reserved by another deployment in progress", "fqdn": fqdn}),
        ),
        _ => answer(StatusCode::OK, json!({"available": true, "fqdn": fqdn})),
    }
}

async fn reserve(State(s): State<Shared>, Path(pool): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (pool, sub) = match pool_and_label(&st, &pool, field(&v, "subdomain")) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // [inference] The reference lists only check's `reserved` reason; the
    // allocator refuses a reserved label on reserve as well, as a 422.
    if RESERVED.contains(&sub.as_str()) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reserved",
            "this name is reserved",
        );
    }
    let key = (pool.clone(), sub.clone());
    // Reserve first deletes an expired reserved row for the same pair.
    if st.rows.get(&key).is_some_and(|r| r.expired(Instant::now())) {
        st.rows.remove(&key);
    }
    if st.rows.contains_key(&key) {
        return problem(
            StatusCode::CONFLICT,
            "conflict",
            "this subdomain is already reserved or active",
        );
    }
    let created_by = field(&v, "createdBy").to_owned();
    let row = new_row(&st.cfg, &pool, &sub, &created_by);
    let out = row.to_json();
    st.rows.insert(key, row);
    answer(StatusCode::CREATED, out)
}

async fn commit(State(s): State<Shared>, Path(pool): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (pool, sub) = match pool_and_label(&st, &pool, field(&v, "subdomain")) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(ip) = field(&v, "loadBalancerIP").parse::<Ipv4Addr>() else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-lb-ip",
            "loadBalancerIP is required",
        );
    };
    let token = field(&v, "reservationToken").to_owned();
    let fqdn = match field(&v, "sovereignFQDN") {
        "" => format!("{sub}.{pool}"),
        f => f.to_owned(),
    };
    let dns_failure = st.dns_failure;
    let key = (pool, sub);
    let Some(row) = st.rows.get_mut(&key) else {
        return problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "no reservation for this subdomain",
        );
    };
    if row.state == FakeState::Active {
        return problem(
            StatusCode::CONFLICT,
            "already-active",
            "this subdomain is already active",
        );
    }
    if row.token != token {
        return problem(
            StatusCode::FORBIDDEN,
            "token-mismatch",
            "reservation token does not match",
        );
    }
    if row.expired(Instant::now()) {
        if st.race_after_expired_commit {
            st.race_after_expired_commit = false;
            let other = new_row(&st.cfg, &key.0, &key.1, "someone-else");
            st.rows.insert(key, other);
        }
        return problem(
            StatusCode::GONE,
            "reservation-expired",
            "the reservation expired; reserve again",
        );
    }
    row.state = FakeState::Active;
    row.expires = None;
    row.expires_at = None;
    row.fqdn = Some(fqdn.clone());
    row.lb_ip = Some(ip.to_string());
    let out = row.to_json();
    if dns_failure {
        let mut out = out;
        out["warning"] = json!("row committed but PowerDNS write failed; retry commit to re-publish DNS");
        return answer(StatusCode::ACCEPTED, out);
    }
    let records = CANONICAL_RECORDS
        .iter()
        .map(|n| ((*n).to_owned(), ip.to_string()))
        .collect();
    st.dns.insert(fqdn, records);
    answer(StatusCode::OK, out)
}

async fn release(
    State(s): State<Shared>,
    Path(pool): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut st = lock(&s);
    // JSON body `{subdomain}`, or `?sub=` when the body is not JSON.
    let sub = match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.is_object() => field(&v, "subdomain").to_owned(),
        _ => q.get("sub").cloned().unwrap_or_default(),
    };
    let (pool, sub) = match pool_and_label(&st, &pool, &sub) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(row) = st.rows.remove(&(pool.clone(), sub.clone())) else {
        return problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "no allocation for this subdomain",
        );
    };
    if st.dns_failure {
        return answer(
            StatusCode::ACCEPTED,
            json!({"warning": "row deleted but PowerDNS teardown failed; re-run release to clean up", "freed": row.to_json()}),
        );
    }
    st.dns.remove(&format!("{sub}.{pool}"));
    answer(StatusCode::OK, json!({ "freed": row.to_json() }))
}

async fn list(State(s): State<Shared>, Path(pool): Path<String>) -> Response {
    let st = lock(&s);
    let pool = norm(&pool);
    if !st.cfg.pools.contains(&pool) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported-pool",
            "pool domain is not managed",
        );
    }
    let rows: Vec<Value> = st
        .rows
        .values()
        .filter(|r| r.pool == pool)
        .map(FakeAllocation::to_json)
        .collect();
    answer(StatusCode::OK, json!({"poolDomain": pool, "allocations": rows}))
}

fn propagation(registrar: &str) -> &'static str {
    match registrar {
        "cloudflare" => "minutes (up to 24h)",
        "godaddy" => "1-4h",
        "namecheap" => "1-2h",
        "ovh" => "1-4h (task queue)",
        _ => "30-60 minutes",
    }
}

/// Common part of both registrar endpoints: adapter lookup, body, script.
fn registrar_call(st: &mut Inner, registrar: &str, body: &Bytes) -> Result<Value, Response> {
    if st.cfg.registrars.is_empty() {
        return Err(problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "registrar-unavailable",
            "no registrar registry wired",
        ));
    }
    if !st.cfg.registrars.iter().any(|r| r == registrar) {
        return Err(answer(
            StatusCode::NOT_FOUND,
            json!({"error": "unsupported-registrar", "detail": format!("no adapter for {registrar}"), "supported": st.cfg.registrars}),
        ));
    }
    let v = json_body(body)?;
    if field(&v, "domain").is_empty() {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-domain",
            "domain is required",
        ));
    }
    if field(&v, "token").is_empty() {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-token",
            "token is required",
        ));
    }
    st.last_tokens
        .insert(registrar.to_owned(), field(&v, "token").to_owned());
    match st.scripts.get(registrar).cloned().unwrap_or(RegistrarOutcome::Ok) {
        RegistrarOutcome::Ok => Ok(v),
        RegistrarOutcome::InvalidToken => Err(problem(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "the registrar rejected the token",
        )),
        RegistrarOutcome::RateLimited => Err(problem(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "the registrar is rate limiting",
        )),
        RegistrarOutcome::DomainNotInAccount => Err(problem(
            StatusCode::FORBIDDEN,
            "domain-not-in-account",
            "the domain is not in this account",
        )),
        RegistrarOutcome::ApiUnavailable => Err(problem(
            StatusCode::BAD_GATEWAY,
            "api-unavailable",
            "the registrar API is unavailable",
        )),
        RegistrarOutcome::Error(detail) => Err(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "registrar-error",
            &detail,
        )),
    }
}

async fn registrar_validate(State(s): State<Shared>, Path(registrar): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    match registrar_call(&mut st, &registrar, &body) {
        Ok(v) => answer(
            StatusCode::OK,
            json!({"valid": true, "registrar": registrar, "domain": field(&v, "domain")}),
        ),
        Err(r) => r,
    }
}

async fn registrar_set_ns(State(s): State<Shared>, Path(registrar): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    let v = match registrar_call(&mut st, &registrar, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let ns: Vec<String> = v
        .get("nameservers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(norm)
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ns.is_empty() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing-nameservers",
            "nameservers are required",
        );
    }
    let domain = field(&v, "domain").to_owned();
    st.nameservers.insert(domain.clone(), ns.clone());
    answer(
        StatusCode::OK,
        json!({"success": true, "registrar": registrar, "domain": domain, "nameservers": ns, "propagation": propagation(&registrar)}),
    )
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
