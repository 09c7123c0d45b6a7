//! Stands in for the Sovereign's console (`https://console.<fqdn>`): an
//! HTTPS server on loopback with a certificate from a test CA, answering 503
//! ("no healthy upstream", as the ingress does while the platform converges)
//! until a chosen moment, then 200. Failed handshakes (a client that refused
//! the certificate) are counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use catalyst_provisioner::engine::cluster::ensure_crypto_provider;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate for 127.0.0.1 signed by it.
pub struct Pki {
    pub ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Pki {
    pub fn new(ca_name: &str) -> Pki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, ca_name);
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
}

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

pub struct FakeConsole {
    pub url: String,
    refused: Arc<AtomicUsize>,
}

impl FakeConsole {
    /// Serves 503 until `ready_after` has passed, then 200.
    pub async fn start(pki: &Pki, ready_after: Duration) -> FakeConsole {
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
        FakeConsole { url, refused }
    }

    /// Handshakes a client broke off (it did not trust the certificate).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}
