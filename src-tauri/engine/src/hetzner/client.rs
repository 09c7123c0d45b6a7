//! The HTTP core: bearer auth, JSON, pagination, rate-limit waits, retries
//! with capped jittered backoff, and a per-client request budget.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::config::HetznerConfig;
use super::error::{ApiErrorKind, ApiFailure, HetznerError};
use crate::secrets::register_secret;

/// Whether a request may be sent again after it may already have reached
/// Hetzner. Creating twice would make two servers, so creates are `Once`:
/// they are repeated only when Hetzner certainly did not process them
/// (connection refused, 429).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Safe,
    Once,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

struct Shared {
    http: reqwest::Client,
    config: HetznerConfig,
    base: Url,
    auth: HeaderValue,
    /// No call leaves before this instant: set from `RateLimit-Reset` when the
    /// project's bucket is empty, shared by concurrent calls of this client.
    pause_until: Mutex<Option<SystemTime>>,
}

/// A Hetzner Cloud API client for one token. Clones share the connection
/// pool and the attempt counter; `operation` starts a fresh budget.
#[derive(Clone)]
pub struct HetznerClient {
    shared: Arc<Shared>,
    attempts: Arc<AtomicU32>,
    budget: u32,
}

impl fmt::Debug for HetznerClient {
    // Written by hand so the token never reaches a Debug print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HetznerClient")
            .field("base_url", &self.shared.config.base_url)
            .field("attempts", &self.attempts())
            .field("budget", &self.budget)
            .finish()
    }
}

impl HetznerClient {
    pub fn new(config: HetznerConfig, token: &str) -> Result<HetznerClient, HetznerError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(HetznerError::Setup {
                detail: "no API token was given".into(),
            });
        }
        register_secret(token);
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| HetznerError::Setup {
                detail: "the API token contains characters a Hetzner token never has".into(),
            })?;
        auth.set_sensitive(true);
        let base_text = config.base_url.trim_end_matches('/');
        let base = Url::parse(base_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| HetznerError::Setup {
                detail: format!("the API address {base_text:?} is not an http(s) URL"),
            })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("catalyst-provisioner/", env!("CARGO_PKG_VERSION")))
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| HetznerError::Setup {
                detail: e.to_string(),
            })?;
        let budget = config.request_budget;
        Ok(HetznerClient {
            shared: Arc::new(Shared {
                http,
                config,
                base,
                auth,
                pause_until: Mutex::new(None),
            }),
            attempts: Arc::new(AtomicU32::new(0)),
            budget,
        })
    }

    /// A client for a new operation: same token, pool and rate-limit pause,
    /// its own attempt count and budget.
    pub fn operation(&self, budget: u32) -> HetznerClient {
        HetznerClient {
            shared: self.shared.clone(),
            attempts: Arc::new(AtomicU32::new(0)),
            budget,
        }
    }

    pub fn config(&self) -> &HetznerConfig {
        &self.shared.config
    }

    /// HTTP attempts made so far against this client's budget.
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::SeqCst)
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, HetznerError> {
        let mut url = Url::parse(&format!(
            "{}{}",
            self.shared.base.as_str().trim_end_matches('/'),
            path
        ))
        .map_err(|e| HetznerError::Setup {
            detail: format!("cannot build a URL for {path}: {e}"),
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn take_attempt(&self) -> bool {
        self.attempts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.budget).then_some(n + 1)
            })
            .is_ok()
    }

    /// Pauses every call of this client until `until`, but never more than
    /// `max_rate_limit_wait` from now: Hetzner's `RateLimit-Reset` marks a
    /// full bucket (up to an hour ahead) while one call comes back per second.
    fn pause_for(&self, until: SystemTime) {
        let now = SystemTime::now();
        let wait = until.duration_since(now).unwrap_or_default();
        if wait.is_zero() {
            return;
        }
        let until = now + wait.min(self.shared.config.max_rate_limit_wait);
        let mut p = self.shared.pause_until.lock().unwrap_or_else(|e| e.into_inner());
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
        }
    }

    /// An answer showed calls left in the bucket: nobody needs to wait.
    fn clear_pause(&self) {
        *self.shared.pause_until.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    async fn wait_for_pause(&self) {
        let until = *self.shared.pause_until.lock().unwrap_or_else(|e| e.into_inner());
        let Some(until) = until else { return };
        if let Ok(wait) = until.duration_since(SystemTime::now()) {
            let wait = wait.min(self.shared.config.max_rate_limit_wait);
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "Hetzner API rate limit reached; waiting until it resets"
            );
            tokio::time::sleep(wait).await;
        }
        // Served: the next call goes at once unless an answer sets a new pause.
        let mut p = self.shared.pause_until.lock().unwrap_or_else(|e| e.into_inner());
        if *p == Some(until) {
            *p = None;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cfg = &self.shared.config;
        let exp = cfg
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(cfg.backoff_cap);
        // Equal jitter: half fixed, half random, so parallel clients spread out.
        let ms = exp.as_millis() as u64;
        let jittered = if ms < 2 {
            ms
        } else {
            rand::rng().random_range(ms / 2..=ms)
        };
        Duration::from_millis(jittered)
    }

    /// How long to wait after a 429: until `RateLimit-Reset`, capped.
    fn rate_limit_wait(&self, reset: Option<u64>, attempt: u32) -> Duration {
        let cap = self.shared.config.max_rate_limit_wait;
        match reset.and_then(|r| {
            (UNIX_EPOCH + Duration::from_secs(r))
                .duration_since(SystemTime::now())
                .ok()
        }) {
            Some(d) if !d.is_zero() => d.min(cap),
            // No header, or a reset already past (clock skew): back off instead.
            _ => self.backoff(attempt).min(cap),
        }
    }

    /// Sends one request with retries; returns the 2xx answer or a typed error.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<RawResponse, HetznerError> {
        let url = self.url(path, query)?;
        let max_attempts = self.shared.config.max_attempts_per_request.max(1);
        let mut attempt = 0u32;
        let mut last: Option<HetznerError> = None;
        loop {
            if attempt >= max_attempts
                && let Some(last) = last
            {
                return Err(HetznerError::RetriesExhausted {
                    attempts: attempt,
                    last: Box::new(last),
                });
            }
            self.wait_for_pause().await;
            if !self.take_attempt() {
                return Err(HetznerError::BudgetExhausted {
                    budget: self.budget,
                    last: last.map(Box::new),
                });
            }
            attempt += 1;
            let mut req = self
                .shared
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, self.shared.auth.clone());
            if let Some(b) = body {
                req = req.json(b);
            }
            let (err, wait) = match req.send().await {
                Err(e) => {
                    let err = transport(&e);
                    // Never connected: Hetzner cannot have acted on it.
                    if repeat == Repeat::Once && !e.is_connect() {
                        return Err(err);
                    }
                    (err, self.backoff(attempt))
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let bytes = match resp.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) => {
                            let err = transport(&e);
                            if repeat == Repeat::Once {
                                return Err(err);
                            }
                            last = Some(err);
                            tokio::time::sleep(self.backoff(attempt)).await;
                            continue;
                        }
                    };
                    let reset = header_u64(&headers, "ratelimit-reset");
                    match header_u64(&headers, "ratelimit-remaining") {
                        Some(0) => {
                            if let Some(r) = reset {
                                self.pause_for(UNIX_EPOCH + Duration::from_secs(r));
                            }
                        }
                        Some(_) => self.clear_pause(),
                        None => {}
                    }
                    tracing::debug!(%method, path, status, attempt, "Hetzner API call");
                    if (200..300).contains(&status) {
                        return Ok(RawResponse { status, body: bytes });
                    }
                    let failure = ApiFailure::from_body(status, &bytes).or_else(|| synthetic(status));
                    let Some(mut failure) = failure else {
                        return Err(HetznerError::UnexpectedResponse {
                            status,
                            detail: snippet(&bytes),
                        });
                    };
                    failure.rate_limit_reset = reset;
                    if failure.kind == ApiErrorKind::RateLimitExceeded {
                        // Refused before processing, so even a create may go again.
                        let wait = self.rate_limit_wait(reset, attempt);
                        self.pause_for(SystemTime::now() + wait);
                        (HetznerError::Api(failure), Duration::ZERO)
                    } else if repeat == Repeat::Safe && (failure.kind.is_transient() || status >= 500) {
                        (HetznerError::Api(failure), self.backoff(attempt))
                    } else {
                        return Err(HetznerError::Api(failure));
                    }
                }
            };
            tracing::warn!(
                %method,
                path,
                attempt,
                code = %err.code(),
                wait_ms = wait.as_millis() as u64,
                "Hetzner API call failed; trying again"
            );
            last = Some(err);
            tokio::time::sleep(wait).await;
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, HetznerError> {
        let r = self.send(Method::GET, path, query, None, Repeat::Safe).await?;
        decode(&r)
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        repeat: Repeat,
    ) -> Result<T, HetznerError> {
        let r = self.send(Method::POST, path, &[], Some(body), repeat).await?;
        decode(&r)
    }

    /// DELETE is idempotent at Hetzner (a repeat answers not_found), so it
    /// is always safe to retry.
    pub async fn delete(&self, path: &str) -> Result<(), HetznerError> {
        self.send(Method::DELETE, path, &[], None, Repeat::Safe).await?;
        Ok(())
    }

    /// Lists every item of a collection, following `meta.pagination.next_page`
    /// with the configured page size.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, HetznerError> {
        let per_page = self.shared.config.per_page.clamp(1, 50);
        let mut out = Vec::new();
        let mut page = 1u64;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("page", page.to_string()));
            q.push(("per_page", per_page.to_string()));
            let r = self.send(Method::GET, path, &q, None, Repeat::Safe).await?;
            let v: Value = decode(&r)?;
            let items =
                v.get(key)
                    .and_then(Value::as_array)
                    .ok_or_else(|| HetznerError::UnexpectedResponse {
                        status: r.status,
                        detail: format!("the answer to {path} has no \"{key}\" list"),
                    })?;
            for item in items {
                out.push(serde_json::from_value(item.clone()).map_err(|e| {
                    HetznerError::UnexpectedResponse {
                        status: r.status,
                        detail: format!("an item of {path} did not parse: {e}"),
                    }
                })?);
            }
            match v.pointer("/meta/pagination/next_page").and_then(Value::as_u64) {
                // A next page that does not move forward would loop forever.
                Some(next) if next > page => page = next,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Lists a collection filtered by a Hetzner label selector
    /// (`k=v`, `k!=v`, `k`, `!k`, comma = AND).
    pub async fn list_by_label<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        label_selector: &str,
    ) -> Result<Vec<T>, HetznerError> {
        self.list(path, key, &[("label_selector", label_selector.to_owned())])
            .await
    }
}

fn transport(e: &reqwest::Error) -> HetznerError {
    // reqwest's text carries the URL (no secrets: the token is a header) and the cause.
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        src = s.source();
    }
    HetznerError::Transport { detail }
}

/// A 429 or 5xx without Hetzner's error object (a proxy page, an empty body)
/// still means "rate limited" / "server failed".
fn synthetic(status: u16) -> Option<ApiFailure> {
    let kind = match status {
        429 => ApiErrorKind::RateLimitExceeded,
        500..=599 => ApiErrorKind::ServerError,
        _ => return None,
    };
    Some(ApiFailure {
        kind,
        status,
        message: format!("HTTP {status} without an error description"),
        fields: Vec::new(),
        limits: Vec::new(),
        rate_limit_reset: None,
    })
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t: String = text.chars().take(200).collect();
    if t.is_empty() { "empty body".into() } else { t }
}

fn decode<T: DeserializeOwned>(r: &RawResponse) -> Result<T, HetznerError> {
    serde_json::from_slice(&r.body).map_err(|e| HetznerError::UnexpectedResponse {
        status: r.status,
        detail: format!("the JSON did not match: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(cfg: HetznerConfig) -> HetznerClient {
        HetznerClient::new(cfg, "unit-test-token-123456").unwrap()
    }

    #[test]
    fn backoff_doubles_stays_capped_and_is_jittered_within_half() {
        let c = client(HetznerConfig {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(1000),
            ..HetznerConfig::default()
        });
        for attempt in 1..=40 {
            let full = (100u64 << (attempt - 1).min(16)).min(1000);
            let d = c.backoff(attempt).as_millis() as u64;
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempt}: {d} not in {}..={full}",
                full / 2
            );
        }
    }

    #[test]
    fn rate_limit_wait_follows_reset_and_is_capped() {
        let c = client(HetznerConfig {
            max_rate_limit_wait: Duration::from_secs(5),
            ..HetznerConfig::default()
        });
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let w = c.rate_limit_wait(Some(now + 3), 1);
        assert!(w > Duration::from_secs(1) && w <= Duration::from_secs(3), "{w:?}");
        assert_eq!(c.rate_limit_wait(Some(now + 3600), 1), Duration::from_secs(5));
        // A reset in the past falls back to the (small) backoff.
        assert!(c.rate_limit_wait(Some(now - 10), 1) <= Duration::from_secs(1));
    }

    #[test]
    fn the_budget_is_counted_and_refuses_beyond() {
        let c = client(HetznerConfig {
            request_budget: 3,
            ..HetznerConfig::default()
        });
        assert!(c.take_attempt() && c.take_attempt() && c.take_attempt());
        assert!(!c.take_attempt());
        assert_eq!(c.attempts(), 3);
        let fresh = c.operation(1);
        assert!(fresh.take_attempt());
        assert!(!fresh.take_attempt());
        assert_eq!(c.attempts(), 3);
    }

    #[test]
    fn setup_errors_are_sentences_and_debug_hides_the_token() {
        let e = HetznerClient::new(HetznerConfig::default(), "  ").unwrap_err();
        assert_eq!(e.code(), "client_setup");
        let e = HetznerClient::new(HetznerConfig::default(), "abc\ndef-ghi").unwrap_err();
        assert!(e.operator_message().contains("characters"), "{e}");
        let e = HetznerClient::new(HetznerConfig::with_base_url("ftp://x"), "tok-123456").unwrap_err();
        assert!(e.operator_message().contains("not an http(s) URL"));
        let c = client(HetznerConfig::with_base_url("http://127.0.0.1:9/v1/"));
        assert!(!format!("{c:?}").contains("unit-test-token"));
        let u = c.url("/servers", &[("label_selector", "a=b,!c".into())]).unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/v1/servers?label_selector=a%3Db%2C%21c"
        );
    }

    #[tokio::test]
    async fn an_unreachable_api_is_a_transport_error_after_the_attempt_cap() {
        // Port 9 (discard) is closed on loopback: connection refused at once.
        let c = client(HetznerConfig {
            base_url: "http://127.0.0.1:9/v1".into(),
            max_attempts_per_request: 3,
            backoff_base: Duration::from_millis(1),
            backoff_cap: Duration::from_millis(2),
            ..HetznerConfig::default()
        });
        let e = c.get::<Value>("/locations", &[]).await.unwrap_err();
        assert_eq!(e.code(), "transport_error", "{e:?}");
        assert!(
            matches!(e, HetznerError::RetriesExhausted { attempts: 3, .. }),
            "{e:?}"
        );
        assert_eq!(c.attempts(), 3);
        assert!(e.operator_message().contains("could not be reached"));
    }
}
