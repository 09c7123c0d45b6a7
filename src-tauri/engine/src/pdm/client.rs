//! HTTP client for PDM: one `reqwest::Client`, basic auth on every request,
//! and a time limit per operation (a subdomain check must answer while the
//! operator types; a commit waits on PowerDNS, whose own client allows 30 s).

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{Context, Op, PdmError, from_response};
use super::names::{check_domain, check_label, fqdn};
use super::registrar::{RegistrarKind, check_credential};
use super::types::{
    Allocation, Availability, CheckReason, CommitOutcome, NameserverChange, PdmHealth, RegistrarValidation,
    ReleaseOutcome, Reservation, WireAllocation, WireCheck, WireHealth, WireList, WireProblem, WireReserved,
    WireSetNs, WireValidate,
};
use crate::secrets::{redact, register_secret};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdmTimeouts {
    pub check: Duration,
    pub reserve: Duration,
    /// Commit and release: both wait on PowerDNS.
    pub commit_release: Duration,
    /// list, reserved, healthz.
    pub read: Duration,
    /// Registrar calls go on to the registrar's API (the original proxy allowed 15 s).
    pub registrar: Duration,
    /// Cap on opening the TCP/TLS connection, whatever the operation: an
    /// unreachable PDM is reported this fast even on a 30 s commit.
    pub connect: Duration,
}

impl Default for PdmTimeouts {
    fn default() -> Self {
        PdmTimeouts {
            check: Duration::from_secs(5),
            reserve: Duration::from_secs(10),
            commit_release: Duration::from_secs(30),
            read: Duration::from_secs(10),
            registrar: Duration::from_secs(15),
            connect: Duration::from_secs(5),
        }
    }
}

/// Where PDM is and how to log in. The password is a value the caller loaded
/// from the keyring; it is registered for redaction on construction.
#[derive(Clone)]
pub struct PdmConfig {
    pub base_url: String,
    pub username: String,
    password: String,
    /// Sent as `createdBy` on reserve so a PDM operator can tell who holds a name.
    pub created_by: String,
    pub timeouts: PdmTimeouts,
}

impl PdmConfig {
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        let password = password.into();
        register_secret(&password);
        PdmConfig {
            base_url: base_url.into(),
            username: username.into(),
            password,
            created_by: format!("catalyst-provisioner/{}", env!("CARGO_PKG_VERSION")),
            timeouts: PdmTimeouts::default(),
        }
    }

    pub fn with_timeouts(mut self, timeouts: PdmTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    pub fn with_created_by(mut self, created_by: impl Into<String>) -> Self {
        self.created_by = created_by.into();
        self
    }
}

impl fmt::Debug for PdmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdmConfig")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("created_by", &self.created_by)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

#[derive(Clone)]
pub struct PdmClient {
    http: reqwest::Client,
    base: Url,
    /// `base` as text, for messages (never holds credentials: those are refused).
    shown_url: String,
    username: String,
    password: String,
    created_by: String,
    timeouts: PdmTimeouts,
}

impl fmt::Debug for PdmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdmClient")
            .field("base", &self.shown_url)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReserveBody<'a> {
    subdomain: &'a str,
    created_by: &'a str,
}

#[derive(Serialize)]
struct CommitBody<'a> {
    subdomain: &'a str,
    #[serde(rename = "reservationToken")]
    reservation_token: &'a str,
    #[serde(rename = "sovereignFQDN")]
    sovereign_fqdn: &'a str,
    #[serde(rename = "loadBalancerIP")]
    load_balancer_ip: String,
}

#[derive(Serialize)]
struct ReleaseBody<'a> {
    subdomain: &'a str,
}

#[derive(Serialize)]
struct RegistrarBody<'a> {
    domain: &'a str,
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nameservers: Option<&'a [String]>,
}

impl PdmClient {
    /// Checks the settings; nothing is sent yet. Basic-auth credentials only
    /// travel over TLS, except to a loopback address (the test doubles).
    pub fn new(config: PdmConfig) -> Result<PdmClient, PdmError> {
        let bad = |reason: String| PdmError::Config { reason };
        let base = Url::parse(config.base_url.trim())
            .map_err(|e| bad(crate::settings::values::url_problem(config.base_url.trim(), e)))?;
        let host = base.host_str().unwrap_or("");
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(bad(
                    "the URL must start with https:// so the PDM password is not sent in clear text.".into(),
                ));
            }
            other => return Err(bad(format!("the URL scheme must be https, not \"{other}\"."))),
        }
        if host.is_empty() || base.cannot_be_a_base() {
            return Err(bad("the URL has no host.".into()));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad(
                "put the user name and password in their own fields, not in the URL.".into(),
            ));
        }
        if config.username.trim().is_empty() {
            return Err(bad("the PDM user name is empty.".into()));
        }
        if config.password.is_empty() {
            return Err(bad("the PDM password is empty.".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .user_agent(config.created_by.clone())
            .build()
            .map_err(|e| bad(format!("the HTTP client could not be built ({e}).")))?;
        Ok(PdmClient {
            http,
            shown_url: base.as_str().trim_end_matches('/').to_owned(),
            base,
            username: config.username,
            password: config.password,
            created_by: config.created_by,
            timeouts: config.timeouts,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.shown_url
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        // `cannot_be_a_base` was refused in `new`, so this always yields segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn timeout(&self, op: Op) -> Duration {
        match op {
            Op::Check => self.timeouts.check,
            Op::Reserve => self.timeouts.reserve,
            Op::Commit | Op::Release => self.timeouts.commit_release,
            Op::Health | Op::Reserved | Op::List => self.timeouts.read,
            Op::RegistrarValidate | Op::RegistrarSetNs => self.timeouts.registrar,
        }
    }

    /// Sends one request; transport failures become `Unreachable`.
    async fn send<B: Serialize>(
        &self,
        op: Op,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<(StatusCode, String), PdmError> {
        let limit = self.timeout(op);
        let mut req = self
            .http
            .request(method, url)
            .basic_auth(&self.username, Some(&self.password))
            .timeout(limit);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| self.transport(&e, limit))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.transport(&e, limit))?;
        tracing::debug!(op = op.name(), status = status.as_u16(), "pdm answered");
        Ok((status, text))
    }

    fn transport(&self, e: &reqwest::Error, limit: Duration) -> PdmError {
        let cause = if e.is_timeout() {
            format!("no answer within {} s", limit.as_secs_f64())
        } else {
            // The innermost cause is the useful one ("Connection refused").
            let mut inner: &dyn std::error::Error = e;
            while let Some(next) = inner.source() {
                inner = next;
            }
            let text = inner.to_string();
            if e.is_connect() {
                format!("connection failed: {text}")
            } else {
                text
            }
        };
        PdmError::Unreachable {
            url: self.shown_url.clone(),
            cause: redact(&cause),
        }
    }

    fn ctx<'a>(&'a self, op: Op, pool: &'a str, fqdn: &'a str) -> Context<'a> {
        Context {
            op,
            url: &self.shown_url,
            pool,
            fqdn,
            registrar: None,
            domain: "",
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(op: Op, status: StatusCode, body: &str) -> Result<T, PdmError> {
        serde_json::from_str(body).map_err(|e| PdmError::UnexpectedResponse {
            op: op.name(),
            status: status.as_u16(),
            detail: format!("the body is not the expected JSON ({e})"),
        })
    }

    fn pool_name(pool: &str) -> Result<String, PdmError> {
        check_domain(pool).map_err(|message| PdmError::Domain { message })
    }

    /// `GET /healthz`: PDM's view of itself, for a preflight line.
    pub async fn health(&self) -> Result<PdmHealth, PdmError> {
        let (status, body) = self
            .send::<()>(Op::Health, Method::GET, self.url(&["healthz"]), None)
            .await?;
        if status != StatusCode::OK {
            return Err(from_response(
                &self.ctx(Op::Health, "", ""),
                status.as_u16(),
                &body,
            ));
        }
        let w: WireHealth = Self::parse(Op::Health, status, &body)?;
        Ok(PdmHealth {
            ok: w.status.as_deref() == Some("ok"),
            managed_domains: w.managed_domains,
            registrars: w.registrars,
        })
    }

    /// `GET /api/v1/reserved`: the labels PDM refuses.
    pub async fn reserved(&self) -> Result<Vec<String>, PdmError> {
        let url = self.url(&["api", "v1", "reserved"]);
        let (status, body) = self.send::<()>(Op::Reserved, Method::GET, url, None).await?;
        if status != StatusCode::OK {
            return Err(from_response(
                &self.ctx(Op::Reserved, "", ""),
                status.as_u16(),
                &body,
            ));
        }
        Ok(Self::parse::<WireReserved>(Op::Reserved, status, &body)?.reserved)
    }

    /// Is `<sub>.<pool>` free? A label that breaks the local rule is answered
    /// here without asking PDM (`checked_locally`).
    pub async fn check(&self, pool: &str, sub: &str) -> Result<Availability, PdmError> {
        let pool = Self::pool_name(pool)?;
        let label = match check_label(sub) {
            Ok(label) => label,
            Err(e) => {
                let shown = sub.trim().to_lowercase();
                let reason = match e {
                    super::names::LabelError::Reserved { .. } => CheckReason::Reserved,
                    _ => CheckReason::InvalidFormat,
                };
                return Ok(Availability {
                    fqdn: fqdn(&shown, &pool),
                    subdomain: shown,
                    pool,
                    available: false,
                    reason: Some(reason),
                    reason_code: None,
                    title: reason.title().to_owned(),
                    message: e.to_string(),
                    checked_locally: true,
                });
            }
        };
        let name = fqdn(&label, &pool);
        let mut url = self.url(&["api", "v1", "pool", &pool, "check"]);
        url.query_pairs_mut().append_pair("sub", &label);
        let (status, body) = self.send::<()>(Op::Check, Method::GET, url, None).await?;
        if status != StatusCode::OK {
            return Err(from_response(
                &self.ctx(Op::Check, &pool, &name),
                status.as_u16(),
                &body,
            ));
        }
        let w: WireCheck = Self::parse(Op::Check, status, &body)?;
        let fqdn = w.fqdn.unwrap_or(name);
        if w.available {
            return Ok(Availability {
                message: format!("\"{fqdn}\" is available."),
                title: "Subdomain is available".to_owned(),
                fqdn,
                subdomain: label,
                pool,
                available: true,
                reason: None,
                reason_code: None,
                checked_locally: false,
            });
        }
        let reason = w
            .reason
            .as_deref()
            .map(CheckReason::from_code)
            .unwrap_or(CheckReason::Other);
        let mut message = reason.sentence(&fqdn, &pool);
        if reason == CheckReason::Other
            && let Some(d) = w.detail.as_deref().or(w.reason.as_deref())
        {
            message = format!("{message} (PDM said: {})", redact(d));
        }
        Ok(Availability {
            title: reason.title().to_owned(),
            message,
            fqdn,
            subdomain: label,
            pool,
            available: false,
            reason: Some(reason),
            reason_code: w.reason,
            checked_locally: false,
        })
    }

    /// Reserves `<sub>.<pool>` for PDM's TTL (10 min by default). 201 is the
    /// only success; 409 means someone holds the name.
    pub async fn reserve(&self, pool: &str, sub: &str) -> Result<Reservation, PdmError> {
        let pool = Self::pool_name(pool)?;
        let label = check_label(sub)?;
        let name = fqdn(&label, &pool);
        let url = self.url(&["api", "v1", "pool", &pool, "reserve"]);
        let body = ReserveBody {
            subdomain: &label,
            created_by: &self.created_by,
        };
        let (status, text) = self.send(Op::Reserve, Method::POST, url, Some(&body)).await?;
        if status != StatusCode::CREATED {
            return Err(from_response(
                &self.ctx(Op::Reserve, &pool, &name),
                status.as_u16(),
                &text,
            ));
        }
        let w: WireAllocation = Self::parse(Op::Reserve, status, &text)?;
        let unexpected = |detail: &str| PdmError::UnexpectedResponse {
            op: Op::Reserve.name(),
            status: status.as_u16(),
            detail: detail.to_owned(),
        };
        let token = w
            .reservation_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unexpected("no reservationToken"))?;
        let expires_at = w
            .expires_at
            .as_deref()
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
            .ok_or_else(|| unexpected("no valid expiresAt"))?;
        Ok(Reservation {
            pool,
            subdomain: label,
            token,
            reserved_at: w.reserved_at.unwrap_or_default(),
            expires_at,
            committed_ip: None,
        })
    }

    /// Makes the reservation active and writes the Sovereign's A records to
    /// `lb_ip`. A 202 is a success with a DNS warning (the row is active, the
    /// records are not written yet); the caller should retry the commit.
    pub async fn commit(
        &self,
        reservation: &Reservation,
        lb_ip: Ipv4Addr,
    ) -> Result<CommitOutcome, PdmError> {
        let name = reservation.fqdn();
        let url = self.url(&["api", "v1", "pool", &reservation.pool, "commit"]);
        let body = CommitBody {
            subdomain: &reservation.subdomain,
            reservation_token: &reservation.token,
            sovereign_fqdn: &name,
            load_balancer_ip: lb_ip.to_string(),
        };
        let (status, text) = self.send(Op::Commit, Method::POST, url, Some(&body)).await?;
        match status {
            StatusCode::OK => Ok(CommitOutcome {
                fqdn: name,
                load_balancer_ip: lb_ip.to_string(),
                dns_warning: None,
            }),
            StatusCode::ACCEPTED => {
                let p: WireProblem = serde_json::from_str(&text).unwrap_or_default();
                Ok(CommitOutcome {
                    fqdn: name,
                    load_balancer_ip: lb_ip.to_string(),
                    dns_warning: Some(redact(
                        p.warning
                            .as_deref()
                            .unwrap_or("PowerDNS was not written; commit again."),
                    )),
                })
            }
            _ => Err(from_response(
                &self.ctx(Op::Commit, &reservation.pool, &name),
                status.as_u16(),
                &text,
            )),
        }
    }

    /// Frees `<sub>.<pool>` whatever its state. PDM's 404 `not-found` means
    /// there was nothing to free and counts as done.
    pub async fn release(&self, pool: &str, sub: &str) -> Result<ReleaseOutcome, PdmError> {
        let pool = Self::pool_name(pool)?;
        let label = check_label(sub).or_else(|e| match e {
            // A reserved label can never have been allocated, but releasing it is harmless to ask.
            super::names::LabelError::Reserved { label } => Ok(label),
            other => Err(other),
        })?;
        let name = fqdn(&label, &pool);
        let url = self.url(&["api", "v1", "pool", &pool, "release"]);
        let body = ReleaseBody { subdomain: &label };
        let (status, text) = self.send(Op::Release, Method::DELETE, url, Some(&body)).await?;
        match status {
            StatusCode::OK => Ok(ReleaseOutcome::Released),
            StatusCode::ACCEPTED => {
                let p: WireProblem = serde_json::from_str(&text).unwrap_or_default();
                Ok(ReleaseOutcome::ReleasedWithWarning {
                    warning: redact(
                        p.warning
                            .as_deref()
                            .unwrap_or("the DNS zone was not torn down; release again."),
                    ),
                })
            }
            _ => match from_response(&self.ctx(Op::Release, &pool, &name), status.as_u16(), &text) {
                PdmError::NotFound { .. } => Ok(ReleaseOutcome::AlreadyReleased),
                e => Err(e),
            },
        }
    }

    /// Every name PDM holds in `pool`.
    pub async fn list(&self, pool: &str) -> Result<Vec<Allocation>, PdmError> {
        let pool = Self::pool_name(pool)?;
        let url = self.url(&["api", "v1", "pool", &pool, "list"]);
        let (status, text) = self.send::<()>(Op::List, Method::GET, url, None).await?;
        if status != StatusCode::OK {
            return Err(from_response(
                &self.ctx(Op::List, &pool, &pool),
                status.as_u16(),
                &text,
            ));
        }
        let w: WireList = Self::parse(Op::List, status, &text)?;
        Ok(w.allocations
            .into_iter()
            .map(|a| Allocation::from_wire(&pool, a))
            .collect())
    }

    fn registrar_inputs(
        kind: RegistrarKind,
        domain: &str,
        credential: &str,
    ) -> Result<(String, String), PdmError> {
        let domain = check_domain(domain).map_err(|message| PdmError::Domain { message })?;
        let token = check_credential(kind, credential)?;
        // Any log line or error detail that echoes it is masked from here on.
        register_secret(&token);
        for part in token.split(':') {
            register_secret(part);
        }
        Ok((domain, token))
    }

    async fn registrar_call(
        &self,
        op: Op,
        kind: RegistrarKind,
        domain: &str,
        body: &RegistrarBody<'_>,
    ) -> Result<(StatusCode, String), PdmError> {
        let action = if op == Op::RegistrarSetNs {
            "set-ns"
        } else {
            "validate"
        };
        let url = self.url(&["api", "v1", "registrar", kind.id(), action]);
        let (status, text) = self.send(op, Method::POST, url, Some(body)).await?;
        if status != StatusCode::OK {
            let ctx = Context {
                op,
                url: &self.shown_url,
                pool: "",
                fqdn: domain,
                registrar: Some(kind),
                domain,
            };
            return Err(from_response(&ctx, status.as_u16(), &text));
        }
        Ok((status, text))
    }

    /// Asks PDM to check the credential against the registrar and confirm the
    /// domain is in that account. The credential's shape is checked first.
    pub async fn registrar_validate(
        &self,
        kind: RegistrarKind,
        domain: &str,
        credential: &str,
    ) -> Result<RegistrarValidation, PdmError> {
        let (domain, token) = Self::registrar_inputs(kind, domain, credential)?;
        let body = RegistrarBody {
            domain: &domain,
            token: &token,
            nameservers: None,
        };
        let (status, text) = self
            .registrar_call(Op::RegistrarValidate, kind, &domain, &body)
            .await?;
        let w: WireValidate = Self::parse(Op::RegistrarValidate, status, &text)?;
        if !w.valid {
            return Err(PdmError::RegistrarInvalidToken { registrar: kind });
        }
        Ok(RegistrarValidation {
            registrar: kind,
            domain,
            valid: true,
        })
    }

    /// Points `domain` at `nameservers` through the registrar's API. PDM
    /// validates the credential again before writing.
    pub async fn registrar_set_ns(
        &self,
        kind: RegistrarKind,
        domain: &str,
        credential: &str,
        nameservers: &[String],
    ) -> Result<NameserverChange, PdmError> {
        let (domain, token) = Self::registrar_inputs(kind, domain, credential)?;
        let mut ns = Vec::with_capacity(nameservers.len());
        for n in nameservers {
            ns.push(check_domain(n).map_err(|message| PdmError::Domain {
                message: format!("Nameserver: {message}"),
            })?);
        }
        if ns.is_empty() {
            return Err(PdmError::MissingNameservers { registrar: kind });
        }
        let body = RegistrarBody {
            domain: &domain,
            token: &token,
            nameservers: Some(&ns),
        };
        let (status, text) = self
            .registrar_call(Op::RegistrarSetNs, kind, &domain, &body)
            .await?;
        let w: WireSetNs = Self::parse(Op::RegistrarSetNs, status, &text)?;
        if !w.success {
            return Err(PdmError::RegistrarError {
                registrar: kind,
                detail: "the registrar did not confirm the change".into(),
            });
        }
        Ok(NameserverChange {
            registrar: kind,
            domain,
            nameservers: w.nameservers,
            propagation: w
                .propagation
                .unwrap_or_else(|| kind.propagation_hint().to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> PdmClient {
        PdmClient::new(PdmConfig::new(base, "catalyst", "client-unit-secret")).unwrap()
    }

    #[test]
    fn urls_keep_a_path_prefix_and_escape_segments() {
        let c = client("https://pool.example/pdm/");
        assert_eq!(
            c.url(&["api", "v1", "pool", "omani.works", "check"]).as_str(),
            "https://pool.example/pdm/api/v1/pool/omani.works/check"
        );
        let c = client("https://pool.example");
        assert_eq!(
            c.url(&["api", "v1", "pool", "a/b?c", "list"]).as_str(),
            "https://pool.example/api/v1/pool/a%2Fb%3Fc/list"
        );
        assert_eq!(c.base_url(), "https://pool.example");
    }

    #[test]
    fn each_operation_has_its_own_limit() {
        let c = client("https://pool.example");
        assert_eq!(c.timeout(Op::Check), Duration::from_secs(5));
        assert_eq!(c.timeout(Op::Reserve), Duration::from_secs(10));
        assert_eq!(c.timeout(Op::Commit), Duration::from_secs(30));
        assert_eq!(c.timeout(Op::Release), Duration::from_secs(30));
    }

    #[test]
    fn loopback_may_use_plain_http_and_nothing_else_may() {
        for ok in [
            "http://127.0.0.1:9",
            "http://[::1]:9",
            "http://localhost:9",
            "https://pool.example",
        ] {
            assert!(
                PdmClient::new(PdmConfig::new(ok, "u", "client-unit-secret")).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://10.0.0.1",
            "http://pool.example",
            "mailto:x@y.z",
            "https://",
            "",
        ] {
            let err = PdmClient::new(PdmConfig::new(bad, "u", "client-unit-secret")).unwrap_err();
            assert_eq!(err.code(), "pdm_config_invalid", "{bad}");
        }
        let err =
            PdmClient::new(PdmConfig::new("https://pool.example", " ", "client-unit-secret")).unwrap_err();
        assert!(err.to_string().contains("user name"), "{err}");
    }
}
