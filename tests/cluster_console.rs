//! The console check against a local HTTPS server with a test CA: it waits
//! through 503s until the console answers, never accepts a certificate the
//! trust store does not vouch for, and ends with a clear timeout when
//! nothing listens.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use catalyst_provisioner::engine::cluster::{ClusterError, ConsoleCheck, ensure_crypto_provider, wait_ready};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// A CA and a server certificate for 127.0.0.1 signed by it.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

fn pki(name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, name);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone()],
        key: leaf_key.serialize_der(),
    }
}

/// Accepts TLS connections; a failed handshake (the client refused the
/// certificate) is counted and skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    refused: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            match tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                _ => {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

struct Console {
    url: String,
    refused: Arc<AtomicUsize>,
}

/// An HTTPS "console" that answers 503 until `ready_after`, then 200.
async fn console(pki: &Pki, ready_after: Duration) -> Console {
    ensure_crypto_provider();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), key)
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/", tcp.local_addr().unwrap());
    let refused = Arc::new(AtomicUsize::new(0));
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
        refused: refused.clone(),
    };
    let ready_at = Instant::now() + ready_after;
    let app = Router::new()
        .route(
            "/",
            get(|State(at): State<Instant>| async move {
                if Instant::now() < at {
                    (StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream")
                } else {
                    (StatusCode::OK, "<html>Catalyst console</html>")
                }
            }),
        )
        .with_state(ready_at);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Console { url, refused }
}

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
    let pki = pki("Catalyst test CA");
    let c = console(&pki, Duration::from_millis(1200)).await;
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
    assert_eq!(c.refused.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_certificate_from_an_unknown_issuer_is_never_accepted() {
    let served = pki("Some other CA");
    let trusted = pki("Catalyst test CA");
    let c = console(&served, Duration::ZERO).await;
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
    assert!(c.refused.load(Ordering::SeqCst) >= 2);
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
