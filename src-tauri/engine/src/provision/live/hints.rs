//! A tool's or provider's failure as the run's stop: its own words, and
//! what the operator does next.

use crate::cluster::ClusterError;
use crate::error::ErrorCode;
use crate::pdm;
use crate::provision::context::{PhaseError, Stop};
use crate::tofu::TofuError;

/// What to do about a tofu failure, by the Hetzner error code or the words in it.
pub fn tofu_hint(text: &str) -> String {
    let t = text.to_ascii_lowercase();
    let hint = if t.contains("uniqueness_error") {
        "A resource with this name already exists in the Hetzner project (left by an earlier run). Wipe, then retry."
    } else if t.contains("resource_limit_exceeded") || t.contains("limit exceeded") {
        "The project's quota is reached: ask Hetzner to raise the limit (Console → Limits) or choose fewer or smaller servers, then Resume. Wipe removes what was created."
    } else if t.contains("rate_limit_exceeded") {
        "Hetzner is rate-limiting this token: wait a minute, then Resume."
    } else if t.contains("unauthorized") || t.contains("token_readonly") || t.contains("forbidden") {
        "Hetzner refused the token: check it again in the Credentials step (it must be Read & Write), then Resume."
    } else if t.contains("resource_unavailable") || t.contains("unavailable") {
        "Hetzner has no capacity for this server type in this location right now: pick another type or location, or Resume later."
    } else if t.contains("provider") && (t.contains("registry") || t.contains("query")) {
        "OpenTofu could not fetch the hcloud provider: check the network or the provider mirror shipped with the app, then Resume."
    } else if t.contains("decrypt") || t.contains("encryption") {
        "The state could not be decrypted: the state passphrase in the keyring does not match this deployment's state."
    } else {
        "Resume retries this step (tofu is idempotent); Wipe removes what was created."
    };
    hint.to_owned()
}

pub(super) fn tofu_stop(e: TofuError) -> Stop {
    match e {
        TofuError::Cancelled { .. } | TofuError::Killed { .. } => Stop::Cancelled,
        other => {
            let text = other.to_string();
            let hint = match &other {
                TofuError::NotFound
                | TofuError::ConfiguredPathMissing(_)
                | TofuError::TooOld { .. }
                | TofuError::TerraformNotNamed { .. } => {
                    "Install OpenTofu 1.8 or newer, or set its path (tofu_path) in the settings, then Resume."
                        .to_owned()
                }
                _ => tofu_hint(&text),
            };
            let mut e = PhaseError::new(text.clone(), hint);
            // Hetzner's own code, as the provider passes it on.
            if text.contains("resource_limit_exceeded") {
                e = e.with_code(ErrorCode::ResourceLimitExceeded);
            }
            Stop::Failed(e)
        }
    }
}

pub(super) fn cluster_stop(e: ClusterError) -> Stop {
    match e {
        ClusterError::Cancelled => Stop::Cancelled,
        other => Stop::Failed(PhaseError::new(other.to_string(), other.hint()).with_code(other.code())),
    }
}

pub(super) fn pdm_stop(what: &str, e: pdm::PdmError) -> Stop {
    let hint = match e.code() {
        ErrorCode::PdmUnreachable => {
            "The pool-domain-manager did not answer: check the network, then Resume."
        }
        ErrorCode::PdmUnauthorized => {
            "PDM refused the login: check the PDM user and password in the settings."
        }
        ErrorCode::SubdomainTaken
        | ErrorCode::SubdomainTakenAfterExpiry
        | ErrorCode::SubdomainAlreadyActive => {
            "The name is taken: start a new run with another subdomain. Wipe removes what this run created."
        }
        _ => "Resume retries this step; Wipe removes what was created.",
    };
    Stop::Failed(PhaseError::new(format!("{what}: {e}"), hint).with_code(e.code()))
}

/// A stop as the wipe reports it (the wipe is never cancelled).
pub(super) fn stop_error(s: Stop) -> PhaseError {
    match s {
        Stop::Failed(e) => e,
        Stop::Cancelled => PhaseError::new("stopped", "Wipe again."),
    }
}

pub(super) fn fail(error: impl Into<String>, hint: impl Into<String>) -> Stop {
    Stop::Failed(PhaseError::new(error, hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_matrix() {
        assert!(tofu_hint("Error: ssh key not unique (uniqueness_error)").contains("Wipe, then retry"));
        assert!(tofu_hint("server limit exceeded (resource_limit_exceeded)").contains("quota"));
        assert!(tofu_hint("something else").contains("Resume"));
    }
}
