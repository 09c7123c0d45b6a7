//! The last check of a run: `https://console.<fqdn>` answers over TLS with a
//! certificate the system trusts. Until cert-manager has its certificate,
//! the gateway serves a self-signed one or nothing, so this polls.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::{ClusterError, secs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleCheck {
    /// `https://console.<fqdn>` (any https URL; tests use a loopback one).
    pub url: String,
    pub interval: Duration,
    pub timeout: Duration,
    /// One request's limit.
    pub request_timeout: Duration,
    /// An extra trusted root in PEM (tests; a private CA), added to the
    /// system's roots, never replacing them.
    pub extra_root_ca_pem: Option<String>,
}

impl ConsoleCheck {
    pub fn for_fqdn(fqdn: &str) -> ConsoleCheck {
        ConsoleCheck {
            url: format!("https://console.{}/", fqdn.trim().trim_end_matches('.')),
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(20 * 60),
            request_timeout: Duration::from_secs(10),
            extra_root_ca_pem: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleReady {
    pub url: String,
    pub status: u16,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// Answers that mean the console is served: the page, a redirect to the
/// login, or an auth challenge. 404 and 5xx mean the route or the backend is
/// not there yet.
fn serves(status: reqwest::StatusCode) -> bool {
    status.is_success() || status.is_redirection() || status.as_u16() == 401 || status.as_u16() == 403
}

/// The most specific cause in an error chain (reqwest hides the TLS reason
/// a few sources deep).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// Polls `check.url` until it answers over verified TLS. `on_attempt` gets
/// each failed attempt's reason (for the log).
pub async fn wait_ready(
    check: &ConsoleCheck,
    cancel: &CancellationToken,
    on_attempt: &mut (dyn FnMut(u32, &str) + Send),
) -> Result<ConsoleReady, ClusterError> {
    if !check.url.starts_with("https://") {
        return Err(ClusterError::ConsoleConfig(format!(
            "{} is not an https URL",
            check.url
        )));
    }
    super::ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(check.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true);
    if let Some(pem) = &check.extra_root_ca_pem {
        // Parsed here: reqwest keeps a PEM unparsed until first use, where a
        // bad one would look like a console that never answers.
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| ClusterError::ConsoleConfig(format!("the extra root CA is not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(ClusterError::ConsoleConfig(
                "the extra root CA holds no certificate".into(),
            ));
        }
        builder = builder.tls_certs_merge(certs);
    }
    let client = builder
        .build()
        .map_err(|e| ClusterError::ConsoleConfig(format!("the HTTPS client could not be built: {e}")))?;
    let started = Instant::now();
    let deadline = started + check.timeout;
    let mut attempts = 0;
    let mut last_error = String::from("no attempt finished");
    loop {
        attempts += 1;
        let answer = tokio::select! {
            _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
            _ = tokio::time::sleep_until(deadline) => None,
            r = client.get(&check.url).send() => Some(r),
        };
        match answer {
            Some(Ok(resp)) if serves(resp.status()) => {
                return Ok(ConsoleReady {
                    url: check.url.clone(),
                    status: resp.status().as_u16(),
                    attempts,
                    elapsed: started.elapsed(),
                });
            }
            Some(Ok(resp)) => last_error = format!("answered HTTP {}", resp.status()),
            Some(Err(e)) => last_error = describe(&e),
            None => {}
        }
        on_attempt(attempts, &last_error);
        if Instant::now() + check.interval >= deadline {
            return Err(ClusterError::ConsoleTimeout {
                url: check.url.clone(),
                waited_s: secs(started.elapsed()),
                last_error,
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
            _ = tokio::time::sleep(check.interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_answers() {
        assert_eq!(
            ConsoleCheck::for_fqdn("acme.omani.works.").url,
            "https://console.acme.omani.works/"
        );
        for (code, ok) in [
            (200, true),
            (302, true),
            (401, true),
            (403, true),
            (404, false),
            (502, false),
            (503, false),
        ] {
            assert_eq!(serves(reqwest::StatusCode::from_u16(code).unwrap()), ok, "{code}");
        }
    }

    #[tokio::test]
    async fn plain_http_and_bad_pem_are_refused() {
        let mut check = ConsoleCheck::for_fqdn("a.example");
        check.url = "http://console.a.example/".into();
        let mut log = |_: u32, _: &str| {};
        let e = wait_ready(&check, &CancellationToken::new(), &mut log)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "console_config_invalid");
        check.url = "https://console.a.example/".into();
        check.extra_root_ca_pem = Some("not pem".into());
        let e = wait_ready(&check, &CancellationToken::new(), &mut log)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "console_config_invalid");
    }
}
