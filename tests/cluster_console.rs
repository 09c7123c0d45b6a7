//! The console check against a local HTTPS server with a test CA: it waits
//! through 503s until the console answers, never accepts a certificate the
//! trust store does not vouch for, and ends with a clear timeout when
//! nothing listens.

use std::time::{Duration, Instant};

use catalyst_provisioner::engine::cluster::{ClusterError, ConsoleCheck, wait_ready};
use catalyst_tests::fakes::console::{FakeConsole, Pki};
use tokio_util::sync::CancellationToken;

fn check(url: &str, ca: Option<&str>, timeout: Duration) -> ConsoleCheck {
    ConsoleCheck {
        url: url.to_owned(),
        interval: Duration::from_millis(200),
        timeout,
        request_timeout: Duration::from_secs(2),
        extra_root_ca_pem: ca.map(str::to_owned),
    }
}

#[tokio::test]
async fn waits_through_503_until_the_console_answers_with_a_trusted_certificate() {
    let pki = Pki::new("Catalyst test CA");
    let c = FakeConsole::start(&pki, Duration::from_millis(1200)).await;
    let mut seen = Vec::new();
    let mut log = |n: u32, why: &str| seen.push((n, why.to_owned()));
    let started = Instant::now();
    let ready = wait_ready(
        &check(&c.url, Some(&pki.ca_pem), Duration::from_secs(10)),
        &CancellationToken::new(),
        &mut log,
    )
    .await
    .unwrap();
    assert_eq!(ready.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "ready before the console was"
    );
    assert!(ready.attempts >= 3, "{ready:?}");
    assert_eq!(seen.len() as u32, ready.attempts - 1);
    assert!(seen.iter().all(|(_, why)| why.contains("503")), "{seen:?}");
    assert_eq!(c.refused(), 0);
}

#[tokio::test]
async fn a_certificate_from_an_unknown_issuer_is_never_accepted() {
    let served = Pki::new("Some other CA");
    let trusted = Pki::new("Catalyst test CA");
    let c = FakeConsole::start(&served, Duration::ZERO).await;
    let mut log = |_: u32, _: &str| {};
    let err = wait_ready(
        &check(&c.url, Some(&trusted.ca_pem), Duration::from_millis(1200)),
        &CancellationToken::new(),
        &mut log,
    )
    .await
    .unwrap_err();
    match &err {
        ClusterError::ConsoleTimeout { last_error, .. } => {
            assert!(last_error.to_lowercase().contains("certificate"), "{last_error}")
        }
        other => panic!("expected console_timeout, got {other:?}"),
    }
    assert!(c.refused() >= 2);
    // Without the extra root the system store does not know our CA either.
    let err = wait_ready(
        &check(&c.url, None, Duration::from_millis(500)),
        &CancellationToken::new(),
        &mut log,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "console_timeout");
}

#[tokio::test]
async fn nothing_listening_times_out_and_cancel_stops_at_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}/");
    let mut log = |_: u32, _: &str| {};
    let started = Instant::now();
    let err = wait_ready(
        &check(&url, None, Duration::from_millis(1000)),
        &CancellationToken::new(),
        &mut log,
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    match &err {
        ClusterError::ConsoleTimeout {
            url: u, last_error, ..
        } => {
            assert_eq!(u, &url);
            assert!(last_error.to_lowercase().contains("connect"), "{last_error}");
        }
        other => panic!("expected console_timeout, got {other:?}"),
    }
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = wait_ready(&check(&url, None, Duration::from_secs(60)), &cancel, &mut log)
        .await
        .unwrap_err();
    assert_eq!(err, ClusterError::Cancelled);
}
