//! What `init -json` says, in the three shapes the engines print it:
//! Terraform 1.11 (`"type":"init_output"` with a `message_code`), OpenTofu
//! 1.8–1.11 (`"type":"output"`), and OpenTofu's newest line (no `type` at
//! all). Each becomes one typed step, so the log shows "Installed
//! hetznercloud/hcloud v1.52.0", never a raw JSON line.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum InitStage {
    Backend,
    Providers,
    /// Reusing the versions in .terraform.lock.hcl.
    LockFile,
    Finding,
    Installing,
    Installed,
    /// Lock file created or updated.
    LockUpdated,
    Complete,
    Other,
}

/// Terraform's `message_code` first (stable), else the words of the message
/// (OpenTofu gives no code).
pub fn classify(message_code: Option<&str>, message: &str) -> InitStage {
    if let Some(code) = message_code {
        let stage = match code {
            "initializing_backend_message" | "initializing_state_store_message" => Some(InitStage::Backend),
            "initializing_provider_plugin_message" => Some(InitStage::Providers),
            "reusing_previous_version_info" | "using_previously_installed_provider_version" => {
                Some(InitStage::LockFile)
            }
            "finding_matching_version_message" | "finding_latest_version_message" => Some(InitStage::Finding),
            "installing_provider_message" => Some(InitStage::Installing),
            "installed_provider_version_info" => Some(InitStage::Installed),
            "lock_info" | "dependencies_lock_changes_info" => Some(InitStage::LockUpdated),
            "output_init_success_message" | "output_init_success_cli_message" => Some(InitStage::Complete),
            _ => None,
        };
        if let Some(s) = stage {
            return s;
        }
    }
    let m = message.trim_start_matches(['-', ' ']).to_ascii_lowercase();
    if m.starts_with("initializing the backend") || m.starts_with("initializing the state store") {
        InitStage::Backend
    } else if m.starts_with("initializing provider plugins") {
        InitStage::Providers
    } else if m.starts_with("reusing previous version") || m.starts_with("using previously-installed") {
        InitStage::LockFile
    } else if m.starts_with("finding ") {
        InitStage::Finding
    } else if m.starts_with("installing ") {
        InitStage::Installing
    } else if m.starts_with("installed ") {
        InitStage::Installed
    } else if m.contains("lock file") {
        InitStage::LockUpdated
    } else if m.contains("has been successfully initialized") {
        InitStage::Complete
    } else {
        InitStage::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_and_words_cover_opentofu() {
        assert_eq!(
            classify(Some("initializing_backend_message"), "x"),
            InitStage::Backend
        );
        assert_eq!(
            classify(
                Some("installed_provider_version_info"),
                "- Installed a v1 (unauthenticated)"
            ),
            InitStage::Installed
        );
        assert_eq!(
            classify(None, "- Installing hetznercloud/hcloud v1.52.0..."),
            InitStage::Installing
        );
        assert_eq!(
            classify(None, "OpenTofu has been successfully initialized!"),
            InitStage::Complete
        );
        assert_eq!(
            classify(Some("something_new"), "Initializing provider plugins..."),
            InitStage::Providers
        );
        assert_eq!(classify(None, "whatever"), InitStage::Other);
    }
}
