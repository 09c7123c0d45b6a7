//! Every way a PDM call can fail, each with a stable `code()` and a sentence
//! the operator can act on. Status codes and `error`/`reason` codes are mapped
//! here and nowhere else.

use super::registrar::{CredentialError, RegistrarKind};
use super::types::WireProblem;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::secrets::redact;

/// The operation a response answers; the same status means different things
/// on different endpoints (a 409 on reserve is "taken", on commit "already active").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Health,
    Reserved,
    Check,
    Reserve,
    Commit,
    Release,
    List,
    RegistrarValidate,
    RegistrarSetNs,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Health => "health check",
            Op::Reserved => "reserved-names lookup",
            Op::Check => "availability check",
            Op::Reserve => "reservation",
            Op::Commit => "commit",
            Op::Release => "release",
            Op::List => "allocation list",
            Op::RegistrarValidate => "registrar validation",
            Op::RegistrarSetNs => "nameserver change",
        }
    }

    fn is_registrar(self) -> bool {
        matches!(self, Op::RegistrarValidate | Op::RegistrarSetNs)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdmError {
    // ---- local, before any request ----
    #[error("The pool-domain-manager settings are not usable: {reason}")]
    Config { reason: String },
    #[error("{0}")]
    Label(#[from] super::names::LabelError),
    #[error("{message}")]
    Domain { message: String },
    #[error("{0}")]
    Credential(#[from] CredentialError),

    // ---- transport ----
    #[error(
        "Cannot reach the pool-domain-manager at {url} ({cause}). Check your network, or choose \
         \"I'll change NS at my registrar manually\" to use your own domain."
    )]
    Unreachable { url: String, cause: String },

    // ---- PDM itself ----
    #[error(
        "The pool-domain-manager at {url} refused the credentials (HTTP 401). Check the PDM user name \
         and password in the settings."
    )]
    Unauthorized { url: String },
    #[error("The pool-domain-manager does not accept \"{fqdn}\" as a name: {detail}")]
    InvalidFormat { fqdn: String, detail: String },
    #[error(
        "The pool-domain-manager does not manage the pool \"{pool}\"; pick one of the offered pool domains."
    )]
    UnsupportedPool { pool: String },
    #[error("\"{fqdn}\" uses a name the pool reserves for its own services; choose another subdomain.")]
    ReservedName { fqdn: String },
    #[error(
        "\"{fqdn}\" was taken by someone else a moment ago (it is reserved or live); choose another subdomain."
    )]
    Conflict { fqdn: String },
    #[error(
        "The pool-domain-manager has no reservation for \"{fqdn}\" (it may have expired and been \
         swept); reserve it again."
    )]
    NotFound { fqdn: String },
    #[error("\"{fqdn}\" is already live with another load balancer; it cannot be committed again.")]
    AlreadyActive { fqdn: String },
    #[error(
        "The reservation of \"{fqdn}\" belongs to another run (the token does not match); this run \
         cannot commit it."
    )]
    TokenMismatch { fqdn: String },
    #[error("The reservation of \"{fqdn}\" expired before the DNS could be written.")]
    ReservationExpired { fqdn: String },
    #[error(
        "The reservation of \"{fqdn}\" expired before the DNS could be written, and someone else \
         took the name in the meantime. The servers are up, but this Sovereign needs a new subdomain: \
         wipe this deployment and start again with another name."
    )]
    TakenAfterExpiry { fqdn: String },
    #[error("The pool-domain-manager needs the load balancer's IPv4 address to write the DNS records.")]
    MissingLbIp,
    #[error("The pool-domain-manager rejected the {op} request as malformed: {detail}")]
    BadRequest { op: &'static str, detail: String },
    #[error(
        "The pool-domain-manager at {url} answered 404 for the {op} request: the URL is probably wrong \
         (it should be the PDM root, e.g. https://pool.openova.io)."
    )]
    WrongEndpoint { op: &'static str, url: String },
    #[error(
        "The pool-domain-manager is up but not able to serve the {op} request right now (HTTP {status}); \
         try again in a few minutes."
    )]
    Unavailable { op: &'static str, status: u16 },
    #[error("The pool-domain-manager failed on the {op} request (HTTP {status}): {detail}")]
    Server {
        op: &'static str,
        status: u16,
        detail: String,
    },
    #[error(
        "The pool-domain-manager gave an answer this app does not understand for the {op} request (HTTP {status}): {detail}"
    )]
    UnexpectedResponse {
        op: &'static str,
        status: u16,
        detail: String,
    },

    // ---- registrars, through PDM ----
    #[error("{registrar} rejected the credential; check it is the right kind of key and not expired.")]
    RegistrarInvalidToken { registrar: RegistrarKind },
    #[error("{registrar} is rate-limiting requests; wait a minute and try again.")]
    RegistrarRateLimited { registrar: RegistrarKind },
    #[error(
        "The domain \"{domain}\" is not visible to that {registrar} credential; check it is in the same \
         account and the key may manage it."
    )]
    DomainNotInAccount {
        registrar: RegistrarKind,
        domain: String,
    },
    #[error(
        "The pool-domain-manager could not reach {registrar}'s API right now; try again in a few minutes."
    )]
    RegistrarApiUnavailable { registrar: RegistrarKind },
    #[error(
        "This pool-domain-manager has no adapter for {registrar}; choose \"I'll change NS at my \
         registrar manually\" instead."
    )]
    RegistrarUnsupported { registrar: RegistrarKind },
    #[error(
        "This pool-domain-manager has no registrar adapters configured; change the nameservers at {registrar} by hand."
    )]
    RegistrarsNotConfigured { registrar: RegistrarKind },
    #[error("{registrar} reported an error: {detail}")]
    RegistrarError {
        registrar: RegistrarKind,
        detail: String,
    },
    #[error("The pool-domain-manager needs at least one nameserver to set at {registrar}.")]
    MissingNameservers { registrar: RegistrarKind },
    #[error("The pool-domain-manager needs the {field} to talk to {registrar}.")]
    RegistrarMissingField {
        registrar: RegistrarKind,
        field: &'static str,
    },
}

impl PdmError {
    /// Stable code for adapters, logs and tests.
    pub fn code(&self) -> ErrorCode {
        match self {
            PdmError::Config { .. } => ErrorCode::PdmConfigInvalid,
            PdmError::Label(e) => e.code(),
            PdmError::Domain { .. } => ErrorCode::DomainInvalid,
            PdmError::Credential(_) => ErrorCode::RegistrarCredentialFormat,
            PdmError::Unreachable { .. } => ErrorCode::PdmUnreachable,
            PdmError::Unauthorized { .. } => ErrorCode::PdmUnauthorized,
            PdmError::InvalidFormat { .. } => ErrorCode::SubdomainInvalid,
            PdmError::UnsupportedPool { .. } => ErrorCode::PoolUnsupported,
            PdmError::ReservedName { .. } => ErrorCode::SubdomainReservedName,
            PdmError::Conflict { .. } => ErrorCode::SubdomainTaken,
            PdmError::NotFound { .. } => ErrorCode::ReservationNotFound,
            PdmError::AlreadyActive { .. } => ErrorCode::SubdomainAlreadyActive,
            PdmError::TokenMismatch { .. } => ErrorCode::ReservationTokenMismatch,
            PdmError::ReservationExpired { .. } => ErrorCode::ReservationExpired,
            PdmError::TakenAfterExpiry { .. } => ErrorCode::SubdomainTakenAfterExpiry,
            PdmError::MissingLbIp => ErrorCode::LbIpMissing,
            PdmError::BadRequest { .. } => ErrorCode::PdmBadRequest,
            PdmError::WrongEndpoint { .. } => ErrorCode::PdmWrongEndpoint,
            PdmError::Unavailable { .. } => ErrorCode::PdmUnavailable,
            PdmError::Server { .. } => ErrorCode::PdmServerError,
            PdmError::UnexpectedResponse { .. } => ErrorCode::PdmUnexpectedResponse,
            PdmError::RegistrarInvalidToken { .. } => ErrorCode::RegistrarInvalidToken,
            PdmError::RegistrarRateLimited { .. } => ErrorCode::RegistrarRateLimited,
            PdmError::DomainNotInAccount { .. } => ErrorCode::RegistrarDomainNotInAccount,
            PdmError::RegistrarApiUnavailable { .. } => ErrorCode::RegistrarApiUnavailable,
            PdmError::RegistrarUnsupported { .. } => ErrorCode::RegistrarUnsupported,
            PdmError::RegistrarsNotConfigured { .. } => ErrorCode::RegistrarNotConfigured,
            PdmError::RegistrarError { .. } => ErrorCode::RegistrarError,
            PdmError::MissingNameservers { .. } => ErrorCode::RegistrarNameserversMissing,
            PdmError::RegistrarMissingField { .. } => ErrorCode::RegistrarMissingField,
        }
    }

    /// True when PDM could not be reached at all: the Domain step then offers
    /// the bring-your-own modes instead of blocking.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, PdmError::Unreachable { .. })
    }
}

impl From<PdmError> for ApiError {
    fn from(e: PdmError) -> ApiError {
        let field = match &e {
            PdmError::Label(_)
            | PdmError::InvalidFormat { .. }
            | PdmError::ReservedName { .. }
            | PdmError::Conflict { .. } => Some("domain.subdomain"),
            PdmError::UnsupportedPool { .. } => Some("domain.pool_domain"),
            PdmError::Domain { .. } | PdmError::DomainNotInAccount { .. } => Some("domain.byo_domain"),
            PdmError::Credential(_) | PdmError::RegistrarInvalidToken { .. } => {
                Some("domain.registrar_token")
            }
            _ => None,
        };
        ApiError {
            code: e.code(),
            message: redact(&e.to_string()),
            field: field.map(str::to_owned),
        }
    }
}

/// What the mapper needs to know besides the response.
pub(crate) struct Context<'a> {
    pub op: Op,
    pub url: &'a str,
    pub pool: &'a str,
    pub fqdn: &'a str,
    pub registrar: Option<RegistrarKind>,
    pub domain: &'a str,
}

/// PDM's `detail` (or the raw body) as safe text: secrets masked, bounded.
fn detail_text(problem: &WireProblem, body: &str) -> String {
    let raw = problem
        .detail
        .clone()
        .or_else(|| problem.error.clone())
        .unwrap_or_else(|| body.trim().to_owned());
    let raw = if raw.is_empty() {
        "no details given".to_owned()
    } else {
        raw
    };
    let mut text = redact(&raw);
    if text.chars().count() > 300 {
        text = text.chars().take(300).collect::<String>() + "…";
    }
    text
}

/// Maps a non-success answer to its error. Code first (it is the precise
/// signal), then status, so an unknown code with a known status still reads well.
pub(crate) fn from_response(ctx: &Context<'_>, status: u16, body: &str) -> PdmError {
    let problem: WireProblem = serde_json::from_str(body).unwrap_or_default();
    let code = problem.error.as_deref().or(problem.reason.as_deref());
    let detail = detail_text(&problem, body);
    let op = ctx.op.name();
    let fqdn = ctx.fqdn.to_owned();
    // Registrar errors only make sense on registrar endpoints; `registrar` is
    // always set there.
    if let (true, Some(registrar)) = (ctx.op.is_registrar(), ctx.registrar) {
        let domain = ctx.domain.to_owned();
        match (status, code) {
            (401, Some("invalid-token")) => return PdmError::RegistrarInvalidToken { registrar },
            (429, _) => return PdmError::RegistrarRateLimited { registrar },
            (403, Some("domain-not-in-account")) => {
                return PdmError::DomainNotInAccount { registrar, domain };
            }
            (502, _) => return PdmError::RegistrarApiUnavailable { registrar },
            (404, Some("unsupported-registrar")) => return PdmError::RegistrarUnsupported { registrar },
            (503, _) => return PdmError::RegistrarsNotConfigured { registrar },
            (500, Some("registrar-error")) => return PdmError::RegistrarError { registrar, detail },
            (422, Some("missing-nameservers")) => return PdmError::MissingNameservers { registrar },
            (422, Some("missing-domain")) => {
                return PdmError::RegistrarMissingField {
                    registrar,
                    field: "domain",
                };
            }
            (422, Some("missing-token")) => {
                return PdmError::RegistrarMissingField {
                    registrar,
                    field: "credential",
                };
            }
            _ => {}
        }
    }
    match (status, code) {
        // PDM's own 401s carry a code; a bare 401 is the basic-auth proxy in front of it.
        (401, _) => PdmError::Unauthorized {
            url: ctx.url.to_owned(),
        },
        (_, Some("invalid-format")) => PdmError::InvalidFormat { fqdn, detail },
        (_, Some("unsupported-pool")) => PdmError::UnsupportedPool {
            pool: ctx.pool.to_owned(),
        },
        (_, Some("missing-lb-ip")) => PdmError::MissingLbIp,
        (_, Some("reserved")) => PdmError::ReservedName { fqdn },
        (409, Some("already-active")) => PdmError::AlreadyActive { fqdn },
        (409, _) if ctx.op == Op::Reserve => PdmError::Conflict { fqdn },
        (403, Some("token-mismatch")) => PdmError::TokenMismatch { fqdn },
        (410, _) => PdmError::ReservationExpired { fqdn },
        (404, Some("not-found")) => PdmError::NotFound { fqdn },
        // A 404 without PDM's code comes from the router or a proxy: wrong URL.
        (404, None) => PdmError::WrongEndpoint {
            op,
            url: ctx.url.to_owned(),
        },
        (400, _) => PdmError::BadRequest { op, detail },
        (502..=504, _) => PdmError::Unavailable { op, status },
        (500..=599, _) => PdmError::Server { op, status, detail },
        _ => {
            let detail = match code {
                Some(c) => format!("code \"{c}\": {detail}"),
                None => detail,
            };
            PdmError::UnexpectedResponse { op, status, detail }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(op: Op) -> Context<'static> {
        Context {
            op,
            url: "https://pool.example",
            pool: "omani.works",
            fqdn: "acme.omani.works",
            registrar: Some(RegistrarKind::Godaddy),
            domain: "acme.com",
        }
    }

    fn code(op: Op, status: u16, body: &str) -> &'static str {
        from_response(&ctx(op), status, body).code().as_str()
    }

    #[test]
    fn every_documented_answer_has_its_own_error() {
        let table: &[(Op, u16, &str, &str)] = &[
            (Op::Check, 401, "401 Unauthorized\n", "pdm_unauthorized"),
            (Op::Check, 500, r#"{"error":"store down"}"#, "pdm_server_error"),
            (Op::Reserve, 400, r#"{"error":"bad-json"}"#, "pdm_bad_request"),
            (
                Op::Reserve,
                422,
                r#"{"error":"invalid-format","detail":"x"}"#,
                "subdomain_invalid",
            ),
            (
                Op::Reserve,
                422,
                r#"{"error":"unsupported-pool"}"#,
                "pool_unsupported",
            ),
            (
                Op::Reserve,
                422,
                r#"{"error":"reserved"}"#,
                "subdomain_reserved_name",
            ),
            (
                Op::Reserve,
                409,
                r#"{"error":"conflict","detail":"this subdomain is already reserved or active"}"#,
                "subdomain_taken",
            ),
            (Op::Commit, 422, r#"{"error":"missing-lb-ip"}"#, "lb_ip_missing"),
            (
                Op::Commit,
                404,
                r#"{"error":"not-found"}"#,
                "reservation_not_found",
            ),
            (
                Op::Commit,
                409,
                r#"{"error":"already-active"}"#,
                "subdomain_already_active",
            ),
            (
                Op::Commit,
                403,
                r#"{"error":"token-mismatch"}"#,
                "reservation_token_mismatch",
            ),
            (
                Op::Commit,
                410,
                r#"{"error":"reservation-expired"}"#,
                "reservation_expired",
            ),
            (Op::Release, 404, "404 page not found", "pdm_wrong_endpoint"),
            (
                Op::List,
                422,
                r#"{"error":"unsupported-pool"}"#,
                "pool_unsupported",
            ),
            (Op::Health, 503, r#"{"status":"unhealthy"}"#, "pdm_unavailable"),
            (Op::Check, 502, "Bad Gateway", "pdm_unavailable"),
            (Op::Check, 418, "teapot", "pdm_unexpected_response"),
            (
                Op::Commit,
                422,
                r#"{"error":"brand-new"}"#,
                "pdm_unexpected_response",
            ),
            (
                Op::RegistrarValidate,
                401,
                r#"{"error":"invalid-token"}"#,
                "registrar_invalid_token",
            ),
            (Op::RegistrarValidate, 401, "401 Unauthorized", "pdm_unauthorized"),
            (
                Op::RegistrarValidate,
                429,
                r#"{"error":"rate-limited"}"#,
                "registrar_rate_limited",
            ),
            (
                Op::RegistrarValidate,
                403,
                r#"{"error":"domain-not-in-account"}"#,
                "registrar_domain_not_in_account",
            ),
            (
                Op::RegistrarValidate,
                502,
                r#"{"error":"api-unavailable"}"#,
                "registrar_api_unavailable",
            ),
            (
                Op::RegistrarValidate,
                404,
                r#"{"error":"unsupported-registrar"}"#,
                "registrar_unsupported",
            ),
            (
                Op::RegistrarValidate,
                503,
                r#"{"error":"no-registry"}"#,
                "registrar_not_configured",
            ),
            (
                Op::RegistrarValidate,
                500,
                r#"{"error":"registrar-error","detail":"boom"}"#,
                "registrar_error",
            ),
            (
                Op::RegistrarSetNs,
                422,
                r#"{"error":"missing-nameservers"}"#,
                "registrar_nameservers_missing",
            ),
            (
                Op::RegistrarSetNs,
                422,
                r#"{"error":"missing-domain"}"#,
                "registrar_missing_field",
            ),
            (
                Op::RegistrarSetNs,
                422,
                r#"{"error":"missing-token"}"#,
                "registrar_missing_field",
            ),
        ];
        for (op, status, body, want) in table {
            assert_eq!(code(*op, *status, body), *want, "{op:?} {status} {body}");
        }
    }

    #[test]
    fn sentences_are_distinct_and_name_the_subject() {
        let a = from_response(&ctx(Op::Commit), 410, r#"{"error":"reservation-expired"}"#).to_string();
        let b = from_response(&ctx(Op::Commit), 403, r#"{"error":"token-mismatch"}"#).to_string();
        let c = from_response(&ctx(Op::Commit), 404, r#"{"error":"not-found"}"#).to_string();
        assert!(
            a.contains("acme.omani.works")
                && b.contains("acme.omani.works")
                && c.contains("acme.omani.works")
        );
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn details_are_redacted_and_bounded() {
        crate::secrets::register_secret("registrar-canary-4242");
        let e = from_response(
            &ctx(Op::RegistrarValidate),
            500,
            r#"{"error":"registrar-error","detail":"bad key registrar-canary-4242"}"#,
        );
        assert!(!e.to_string().contains("registrar-canary-4242"));
        let long = format!(r#"{{"error":"x","detail":"{}"}}"#, "y".repeat(2000));
        let e = from_response(&ctx(Op::Check), 500, &long);
        assert!(e.to_string().len() < 500);
    }

    #[test]
    fn api_error_keeps_code_and_points_at_the_field() {
        let api: ApiError = PdmError::Conflict { fqdn: "a.b.c".into() }.into();
        assert_eq!(api.code, "subdomain_taken");
        assert_eq!(api.field.as_deref(), Some("domain.subdomain"));
        assert!(api.message.contains("a.b.c"));
    }
}
