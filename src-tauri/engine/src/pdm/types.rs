//! What PDM answers, as typed values. The `Wire*` structs mirror PDM's JSON
//! (camelCase, optional fields); the public types are what the engine and the
//! UI use (snake_case, with operator sentences already attached).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

use super::registrar::RegistrarKind;

/// Why PDM (or the local rule) says a subdomain cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum CheckReason {
    InvalidFormat,
    UnsupportedPool,
    /// One of PDM's reserved labels (api, console, …).
    Reserved,
    /// Another deployment holds a live reservation.
    ReservedState,
    /// A running Sovereign already uses the name.
    ActiveState,
    /// PDM found a row in a state it does not know.
    UnknownState,
    /// A reason this version of the app does not know yet.
    Other,
}

impl CheckReason {
    pub fn from_code(code: &str) -> CheckReason {
        match code {
            "invalid-format" => CheckReason::InvalidFormat,
            "unsupported-pool" => CheckReason::UnsupportedPool,
            "reserved" => CheckReason::Reserved,
            "reserved-state" => CheckReason::ReservedState,
            "active-state" => CheckReason::ActiveState,
            "unknown-state" => CheckReason::UnknownState,
            _ => CheckReason::Other,
        }
    }

    /// Card title. Each reason has its own (the original showed one generic
    /// "Availability check unavailable" for the last ones).
    pub fn title(self) -> &'static str {
        match self {
            CheckReason::InvalidFormat => "Invalid subdomain format",
            CheckReason::UnsupportedPool => "Pool domain not supported",
            CheckReason::Reserved => "Subdomain is reserved",
            CheckReason::ReservedState => "Subdomain is being provisioned",
            CheckReason::ActiveState => "Subdomain is already taken",
            CheckReason::UnknownState => "Subdomain is in an unknown state",
            CheckReason::Other => "Subdomain is not available",
        }
    }

    /// Operator sentence for `fqdn` (the pool is its parent).
    pub fn sentence(self, fqdn: &str, pool: &str) -> String {
        match self {
            CheckReason::InvalidFormat => format!(
                "\"{fqdn}\" is not a valid name: use 1-63 letters, digits and hyphens, starting with a letter."
            ),
            CheckReason::UnsupportedPool => format!(
                "The pool-domain-manager does not manage \"{pool}\"; pick one of the offered pool domains."
            ),
            CheckReason::Reserved => {
                format!("\"{fqdn}\" uses a reserved name; choose another subdomain.")
            }
            CheckReason::ReservedState => format!(
                "\"{fqdn}\" is reserved by another deployment in progress; try again in a few minutes or choose another subdomain."
            ),
            CheckReason::ActiveState => {
                format!("\"{fqdn}\" is already used by a live Sovereign; choose another subdomain.")
            }
            CheckReason::UnknownState => format!(
                "The pool-domain-manager holds \"{fqdn}\" in a state it does not recognise; choose another subdomain or ask OpenOva support to clean it up."
            ),
            CheckReason::Other => {
                format!("The pool-domain-manager says \"{fqdn}\" is not available; choose another subdomain.")
            }
        }
    }
}

/// The result of a subdomain check, ready for the Domain step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Availability {
    pub subdomain: String,
    pub pool: String,
    pub fqdn: String,
    pub available: bool,
    pub reason: Option<CheckReason>,
    /// The reason code as PDM sent it (kept for unknown reasons and logs).
    pub reason_code: Option<String>,
    pub title: String,
    pub message: String,
    /// True when the local rule answered and PDM was not asked.
    pub checked_locally: bool,
}

/// `GET …/check` answer.
#[derive(Debug, Deserialize)]
pub(crate) struct WireCheck {
    pub available: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub fqdn: Option<String>,
}

/// One row of `pool_allocations` as PDM serialises it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireAllocation {
    #[serde(default)]
    pub pool_domain: Option<String>,
    pub subdomain: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub reserved_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub reservation_token: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default, rename = "sovereignFQDN")]
    pub sovereign_fqdn: Option<String>,
    #[serde(default, rename = "loadBalancerIP")]
    pub load_balancer_ip: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireList {
    #[serde(default)]
    pub allocations: Vec<WireAllocation>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireReserved {
    #[serde(default)]
    pub reserved: Vec<String>,
}

/// Error / warning body: `{error, detail}` or `{reason, detail}` or `{warning, …}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireProblem {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub warning: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireValidate {
    #[serde(default)]
    pub valid: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireSetNs {
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub nameservers: Vec<String>,
    #[serde(default)]
    pub propagation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AllocationState {
    Reserved,
    Active,
    /// A state this version does not know (PDM's `unknown-state`).
    Unknown,
}

/// A name PDM holds in a pool. The reservation token stays out of it: it is
/// not a secret, but nothing outside the run needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Allocation {
    pub pool: String,
    pub subdomain: String,
    pub state: AllocationState,
    pub reserved_at: Option<String>,
    pub expires_at: Option<String>,
    pub sovereign_fqdn: Option<String>,
    pub load_balancer_ip: Option<String>,
    pub created_by: Option<String>,
    #[serde(skip)]
    #[ts(skip)]
    pub(crate) reservation_token: Option<String>,
}

impl Allocation {
    pub(crate) fn from_wire(pool: &str, w: WireAllocation) -> Allocation {
        let state = match w.state.as_deref() {
            Some("reserved") => AllocationState::Reserved,
            Some("active") => AllocationState::Active,
            _ => AllocationState::Unknown,
        };
        Allocation {
            pool: w.pool_domain.unwrap_or_else(|| pool.to_owned()),
            subdomain: w.subdomain,
            state,
            reserved_at: w.reserved_at,
            expires_at: w.expires_at,
            sovereign_fqdn: w.sovereign_fqdn,
            load_balancer_ip: w.load_balancer_ip,
            created_by: w.created_by,
            reservation_token: w.reservation_token,
        }
    }
}

/// A live reservation held by a run. Persisted with the deployment record so
/// a resumed run can commit it; the token is never sent to the UI (the UI gets
/// a `ReservationView`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub pool: String,
    pub subdomain: String,
    pub token: String,
    /// As PDM sent it; compared verbatim to recognise our own row later.
    pub reserved_at: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Set once a commit succeeded, so a failed run knows the active row is ours.
    pub committed_ip: Option<String>,
}

impl Reservation {
    pub fn fqdn(&self) -> String {
        super::names::fqdn(&self.subdomain, &self.pool)
    }

    pub fn view(&self) -> ReservationView {
        ReservationView {
            fqdn: self.fqdn(),
            expires_at_unix: u64::try_from(self.expires_at.unix_timestamp()).unwrap_or(0),
            committed: self.committed_ip.is_some(),
        }
    }
}

/// What the UI may show about a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReservationView {
    pub fqdn: String,
    #[ts(type = "number")]
    pub expires_at_unix: u64,
    pub committed: bool,
}

/// A successful commit. `dns_warning` is PDM's 202 answer: the row is active
/// but PowerDNS was not written, so the name will not resolve until a retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CommitOutcome {
    pub fqdn: String,
    pub load_balancer_ip: String,
    pub dns_warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReleaseOutcome {
    Released,
    /// PDM had no such name (404 `not-found`): nothing to free.
    AlreadyReleased,
    /// 202: the row is gone but the DNS zone teardown failed; release again.
    ReleasedWithWarning {
        warning: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RegistrarValidation {
    pub registrar: RegistrarKind,
    pub domain: String,
    pub valid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NameserverChange {
    pub registrar: RegistrarKind,
    pub domain: String,
    /// As the registrar reports them after the change.
    pub nameservers: Vec<String>,
    pub propagation: String,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PdmHealth {
    pub ok: bool,
    pub managed_domains: Vec<String>,
    pub registrars: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireHealth {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub managed_domains: Vec<String>,
    #[serde(default)]
    pub registrars: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ts_rs::{Config, TS};

    #[test]
    fn every_reason_has_its_own_title_and_sentence() {
        let all = [
            CheckReason::InvalidFormat,
            CheckReason::UnsupportedPool,
            CheckReason::Reserved,
            CheckReason::ReservedState,
            CheckReason::ActiveState,
            CheckReason::UnknownState,
            CheckReason::Other,
        ];
        let titles: std::collections::HashSet<_> = all.iter().map(|r| r.title()).collect();
        assert_eq!(titles.len(), all.len(), "no shared fallback title");
        assert!(!titles.contains("Availability check unavailable"));
        for r in all {
            let code = serde_json::to_value(r).unwrap();
            if r != CheckReason::Other {
                assert_eq!(CheckReason::from_code(code.as_str().unwrap()), r);
            }
            assert!(r.sentence("a.omani.works", "omani.works").ends_with('.'));
        }
        assert_eq!(CheckReason::from_code("brand-new"), CheckReason::Other);
    }

    #[test]
    fn ui_types_render_for_typescript() {
        let cfg = Config::default();
        assert!(ReservationView::decl(&cfg).contains("expires_at_unix: number"));
        assert!(CheckReason::decl(&cfg).contains("\"reserved-state\""));
        assert!(
            !Allocation::decl(&cfg).contains("token"),
            "{}",
            Allocation::decl(&cfg)
        );
        for decl in [
            Availability::decl(&cfg),
            AllocationState::decl(&cfg),
            CommitOutcome::decl(&cfg),
            ReleaseOutcome::decl(&cfg),
            RegistrarValidation::decl(&cfg),
            NameserverChange::decl(&cfg),
            PdmHealth::decl(&cfg),
            RegistrarKind::decl(&cfg),
            super::super::registrar::RegistrarInfo::decl(&cfg),
        ] {
            assert!(decl.starts_with("type "), "{decl}");
        }
    }

    #[test]
    fn a_reservation_round_trips_for_the_deployment_record() {
        let r = Reservation {
            pool: "omani.works".into(),
            subdomain: "acme".into(),
            token: "6f1c2a4e-0000-4000-8000-000000000001".into(),
            reserved_at: "2026-05-01T10:00:00.123456789Z".into(),
            expires_at: OffsetDateTime::parse(
                "2026-05-01T10:10:00.123456789Z",
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap(),
            committed_ip: None,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Reservation>(&text).unwrap(), r);
        assert_eq!(r.view().expires_at_unix, 1_777_630_200);
    }
}
