//! Where the client talks to and how patient it is.

use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.hetzner.cloud/v1";
/// The variable the hcloud OpenTofu provider reads for its endpoint; honouring
/// it too keeps the app and tofu pointed at the same API (real or fake).
pub const ENDPOINT_ENV: &str = "HCLOUD_ENDPOINT";

#[derive(Debug, Clone, PartialEq)]
pub struct HetznerConfig {
    /// API root without a trailing slash, e.g. `https://api.hetzner.cloud/v1`.
    pub base_url: String,
    /// HTTP attempts (retries and rate-limit waits included) one client may
    /// make; a client is made per operation, so this bounds an operation.
    pub request_budget: u32,
    /// Attempts for a single request before its last error is returned.
    pub max_attempts_per_request: u32,
    /// First retry delay; doubled per attempt up to `backoff_cap`, jittered.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Longest single wait for `RateLimit-Reset`. Hetzner's reset marks full
    /// recovery (up to an hour ahead) while the bucket refills one call per
    /// second, so waiting a capped while is enough to go on.
    pub max_rate_limit_wait: Duration,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Page size for list calls (Hetzner's maximum is 50).
    pub per_page: u32,
}

impl Default for HetznerConfig {
    fn default() -> Self {
        HetznerConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            request_budget: 120,
            max_attempts_per_request: 5,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(10),
            max_rate_limit_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            per_page: 50,
        }
    }
}

impl HetznerConfig {
    /// The default configuration pointed at another API root (a fake, a proxy).
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        HetznerConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            ..Default::default()
        }
    }

    /// The default configuration, with the endpoint from `HCLOUD_ENDPOINT`
    /// when it is set.
    pub fn from_env() -> Self {
        match std::env::var(ENDPOINT_ENV) {
            Ok(url) if !url.trim().is_empty() => Self::with_base_url(url.trim()),
            _ => Self::default(),
        }
    }
}
