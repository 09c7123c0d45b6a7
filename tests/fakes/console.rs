//! Stands in for the Sovereign's console (`https://console.<fqdn>`): an
//! HTTPS server on loopback with a certificate from a test CA, answering 503
//! ("no healthy upstream", as the ingress does while the platform converges)
//! until a chosen moment, then 200. Failed handshakes (a client that refused
//! the certificate) are counted. `GET /auth/handover?token=<JWT>` is the
//! console's first login as the reference's console does it: the token's
//! EdDSA signature verified with the public JWK the run installed in the
//! cluster (`catalyst-system/catalyst-handover-jwt-public`, read from the
//! fake Kubernetes API), then iss, aud, exp, role, email_verified and a
//! one-time jti; 302 to /console/dashboard with a session cookie, else 401
//! `{"error": …}`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::kube::KubeSecrets;
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
    handover: Arc<Handover>,
}

/// The first-login check: where the public key comes from, for which Sovereign.
struct Handover {
    fqdn: Mutex<Option<String>>,
    keys: Mutex<Option<KubeSecrets>>,
    used: Mutex<Vec<String>>,
    /// Claims of every login let in.
    accepted: Mutex<Vec<Value>>,
}

fn refuse(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": why}).to_string(),
    )
        .into_response()
}

impl Handover {
    fn check(&self, token: &str) -> Result<Value, &'static str> {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let parts: Vec<&str> = token.split('.').collect();
        let [h, c, sig] = parts.as_slice() else {
            return Err("invalid token");
        };
        let decode = |p: &str| -> Result<Value, &'static str> {
            let bytes = URL_SAFE_NO_PAD.decode(p).map_err(|_| "invalid token")?;
            serde_json::from_slice(&bytes).map_err(|_| "invalid token")
        };
        let header = decode(h)?;
        if header["alg"] != "EdDSA" {
            return Err("unexpected signing method");
        }
        let fqdn = self
            .fqdn
            .lock()
            .unwrap()
            .clone()
            .ok_or("server misconfiguration: no sovereign")?;
        let secrets = self
            .keys
            .lock()
            .unwrap()
            .clone()
            .ok_or("server misconfiguration: no cluster")?;
        let jwk: Value = secrets
            .value("catalyst-system", "catalyst-handover-jwt-public", "public.jwk")
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or("server misconfiguration: public key unavailable")?;
        if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" {
            return Err("server misconfiguration: not an Ed25519 JWK");
        }
        let x: [u8; 32] = jwk["x"]
            .as_str()
            .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or("server misconfiguration: bad JWK")?;
        let public = VerifyingKey::from_bytes(&x).map_err(|_| "server misconfiguration: bad JWK")?;
        let sig: [u8; 64] = URL_SAFE_NO_PAD
            .decode(sig)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("invalid token")?;
        public
            .verify(format!("{h}.{c}").as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| "invalid token")?;
        let claims = decode(c)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        if claims["iss"] != "https://console.openova.io" {
            return Err("invalid issuer");
        }
        if claims["aud"] != format!("https://console.{fqdn}").as_str() {
            return Err("invalid audience");
        }
        if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
            return Err("token expired");
        }
        if claims["role"] != "sovereign-admin" {
            return Err("insufficient role");
        }
        if claims["email_verified"] != true || claims["email"].as_str().is_none_or(str::is_empty) {
            return Err("email not verified");
        }
        let jti = claims["jti"]
            .as_str()
            .filter(|j| !j.is_empty())
            .ok_or("missing jti")?;
        let mut used = self.used.lock().unwrap();
        if used.iter().any(|u| u == jti) {
            return Err("token already used");
        }
        used.push(jti.to_owned());
        Ok(claims)
    }
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
        let handover = Arc::new(Handover {
            fqdn: Mutex::new(None),
            keys: Mutex::new(None),
            used: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route(
                "/",
                get(|State((at, _)): State<(Instant, Arc<Handover>)>| async move {
                    if Instant::now() < at {
                        (StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream")
                    } else {
                        (StatusCode::OK, "<html>Catalyst console</html>")
                    }
                }),
            )
            .route(
                "/auth/handover",
                get(
                    |State((_, h)): State<(Instant, Arc<Handover>)>, Query(q): Query<BTreeMap<String, String>>| async move {
                        let Some(token) = q.get("token").filter(|t| !t.is_empty()) else {
                            return refuse("missing token parameter");
                        };
                        match h.check(token) {
                            Ok(claims) => {
                                h.accepted.lock().unwrap().push(claims);
                                (
                                    StatusCode::FOUND,
                                    [
                                        (header::LOCATION, "/console/dashboard"),
                                        (header::SET_COOKIE, "catalyst_session=fake-session; Path=/; HttpOnly; Secure; SameSite=Lax"),
                                    ],
                                )
                                    .into_response()
                            }
                            Err(why) => refuse(why),
                        }
                    },
                ),
            )
            .with_state((ready_at, handover.clone()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeConsole {
            url,
            refused,
            handover,
        }
    }

    /// Lets first logins in for `fqdn`, verified with the key in `cluster`.
    pub fn accept_handovers(&self, fqdn: &str, cluster: KubeSecrets) {
        *self.handover.fqdn.lock().unwrap() = Some(fqdn.to_owned());
        *self.handover.keys.lock().unwrap() = Some(cluster);
    }

    /// The claims of every first login let in.
    pub fn handovers(&self) -> Vec<Value> {
        self.handover.accepted.lock().unwrap().clone()
    }

    /// Handshakes a client broke off (it did not trust the certificate).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}
