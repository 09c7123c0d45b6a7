//! Hetzner Cloud API client: token scope, locations, server types, prices,
//! and the purge helpers of the wipe. Own thin client over reqwest; see
//! README.md in this directory for why not the `hcloud` crate.

mod client;
mod config;
mod error;
mod purge;
mod token;
mod types;

pub use client::{HetznerClient, RawResponse, Repeat};
pub use config::{DEFAULT_BASE_URL, ENDPOINT_ENV, HetznerConfig};
pub use error::{ApiErrorKind, ApiFailure, FieldProblem, HetznerError};
pub use purge::{DeleteOutcome, ResourceKind, ResourceRef};
pub use token::{
    MSG_INVALID, MSG_MALFORMED, MSG_READ_ONLY, MSG_READ_WRITE, check_token, check_with, probe_scope,
    require_read_write,
};
pub use types::{
    LoadBalancerTypeInfo, LocationInfo, LocationPrice, Price, ServerTypeAvailability, ServerTypeInfo,
    TokenCheck, TokenScope,
};
