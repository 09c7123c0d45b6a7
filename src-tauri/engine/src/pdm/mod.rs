//! Pool-domain-manager (PDM) client: the service that hands out
//! `<label>.<pool>` names, writes their DNS when the load balancer IP is known,
//! and flips nameservers at a customer's registrar for bring-your-own domains.
//!
//! - `names`: the local subdomain-label rule and the pool list (no network).
//! - `registrar`: registrar kinds and the credential format each adapter parses.
//! - `types`: what PDM answers, as typed values (some are shown by the UI).
//! - `error`: every PDM status / reason code as a typed error with an operator sentence.
//! - `client`: the HTTP client (basic auth, per-operation timeouts).
//! - `lifecycle`: reserve / commit / release as a provisioning run uses them.

pub mod client;
pub mod error;
pub mod lifecycle;
pub mod names;
pub mod registrar;
pub mod types;

pub use client::{PdmClient, PdmConfig, PdmTimeouts};
pub use error::PdmError;
pub use lifecycle::{
    CommitReport, ReleaseReport, commit_with_rereserve, release_on_failure, reserve_for_run,
};
pub use names::{DEFAULT_POOLS, LabelError, RESERVED_LABELS, check_domain, check_label, fqdn};
pub use registrar::{CredentialError, RegistrarInfo, RegistrarKind, check_credential, registrars};
pub use types::{
    Allocation, AllocationState, Availability, CheckReason, CommitOutcome, NameserverChange, PdmHealth,
    RegistrarValidation, ReleaseOutcome, Reservation, ReservationView,
};
