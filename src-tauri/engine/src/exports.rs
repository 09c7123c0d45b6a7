//! Files the operator takes away from a deployment: its kubeconfig and its
//! event log (for a replay). Both go where the operator picks (the native
//! "Save as…" dialog in the window, the exports folder without one) or to a
//! path an adapter names, readable by the operator only.

use crate::error::ErrorCode;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Engine;
use super::credentials::{DRAFT_OWNER, ExportOutcome};
use super::keys::SaveDialog;
use super::replay::{self, EventLogHeader};
use super::secrets::names;
use super::store::deployments::{DeploymentRecord, now_rfc3339};
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SaveArgs {
    pub id: String,
    /// Where to write (absolute). Without it the window asks with its
    /// "Save as…" dialog; without a window it goes to the exports folder.
    pub path: Option<String>,
    /// Replace a file already at `path` (the CLI's --force). The dialog asks
    /// on its own; without either an existing file is refused.
    #[serde(default)]
    #[ts(optional)]
    pub overwrite: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventsExport {
    /// Where the log was written; `None` when the operator cancelled.
    pub path: Option<String>,
    #[ts(type = "number")]
    pub events: u64,
    /// Events in which something secret was found and masked (expected: 0).
    #[ts(type = "number")]
    pub masked: u64,
}

/// `store::write_private_file` with the export's error for the operator.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    crate::store::write_private_file(path, bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::ExportFailed,
            format!("{} could not be written: {e}", path.display()),
        )
    })
}

/// `omantel.omani.works` → `omantel.omani.works` (anything odd becomes `_`).
pub(crate) fn file_slug(fqdn: &str) -> String {
    let s: String = fqdn
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '_' || c == '.').to_owned();
    if s.is_empty() { "deployment".into() } else { s }
}

impl Engine {
    /// The deployment's kubeconfig. Not a command: it holds cluster-admin
    /// credentials, so it never crosses the window's IPC or the bridge; the
    /// CLI (same process) prints it, the others save it to a file.
    pub async fn kubeconfig_text(&self, id: &str) -> Result<String, ApiError> {
        let record = self
            .deployment_get(super::provision::IdArgs { id: id.to_owned() })
            .await?;
        let path = self.deployments().kubeconfig_path(&record.id);
        // Never through a link planted in the deployment's folder.
        match crate::store::read_limited_string(&path, 4 * 1024 * 1024) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_kubeconfig(&record)),
            Err(e) => Err(ApiError::new(
                ErrorCode::KubeconfigUnreadable,
                format!("{} cannot be read: {e}", path.display()),
            )),
        }
    }

    /// Saves the kubeconfig where the operator picks (or `path`), mode 0600.
    pub async fn deployment_kubeconfig_save(&self, args: SaveArgs) -> Result<ExportOutcome, ApiError> {
        let text = self.kubeconfig_text(&args.id).await?;
        let overwrite = args.overwrite.unwrap_or(false);
        let record = self
            .deployment_get(super::provision::IdArgs { id: args.id })
            .await?;
        let name = format!("{}.kubeconfig.yaml", file_slug(&record.fqdn));
        let path = self
            .save_to(
                args.path,
                overwrite,
                "Save the kubeconfig",
                &name,
                text.into_bytes(),
            )
            .await?;
        if let Some(p) = &path {
            tracing::info!(id = %record.id, path = %p.display(), "kubeconfig saved");
        }
        Ok(ExportOutcome {
            path: path.map(|p| p.display().to_string()),
        })
    }

    /// The event log as an exported file's text, and how many events had
    /// something masked.
    pub async fn events_export_text(&self, id: &str) -> Result<(String, u64, u64), ApiError> {
        let record = self
            .deployment_get(super::provision::IdArgs { id: id.to_owned() })
            .await?;
        let events = self
            .deployment_events(super::provision::EventsArgs {
                id: id.to_owned(),
                since_seq: 0,
            })
            .await?;
        if events.is_empty() {
            return Err(ApiError::new(
                ErrorCode::NoEvents,
                format!("{} has no events yet; there is nothing to export.", record.fqdn),
            ));
        }
        self.register_run_secrets(&record.id).await;
        let header = EventLogHeader {
            format: replay::FORMAT.into(),
            version: replay::VERSION,
            recorded_at: record.created_at.clone(),
            exported_at: now_rfc3339(),
            fqdn: record.fqdn.clone(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            demo: record.demo.is_some(),
            status: Some(record.status),
            events: events.len() as u64,
        };
        let (text, masked) = replay::render(&header, &events)?;
        if masked > 0 {
            tracing::warn!(id, masked, "secrets found in events were masked on export");
        }
        Ok((text, events.len() as u64, masked))
    }

    /// Exports the event log (for a replay) where the operator picks (or `path`).
    pub async fn deployment_events_export(&self, args: SaveArgs) -> Result<EventsExport, ApiError> {
        let (text, events, masked) = self.events_export_text(&args.id).await?;
        let overwrite = args.overwrite.unwrap_or(false);
        let record = self
            .deployment_get(super::provision::IdArgs { id: args.id })
            .await?;
        let name = format!("{}-{}.events.jsonl", file_slug(&record.fqdn), record.id);
        let path = self
            .save_to(
                args.path,
                overwrite,
                "Export the event log",
                &name,
                text.into_bytes(),
            )
            .await?;
        Ok(EventsExport {
            path: path.map(|p| p.display().to_string()),
            events,
            masked,
        })
    }

    /// Loads the run's secrets so the redaction registry knows them before
    /// anything leaves the app. Best effort: an unreachable keyring only
    /// means the built-in private-key check is the one that applies.
    pub(crate) async fn register_run_secrets(&self, id: &str) {
        for name in [
            names::hetzner_token(id),
            names::hetzner_token(DRAFT_OWNER),
            names::admin_private_key(id),
            names::admin_private_key(DRAFT_OWNER),
            names::host_private_key(id),
            super::secrets::names::registrar(id),
            names::k3s_token(id),
            names::state_passphrase(id),
        ] {
            if let Err(e) = self.secret(&name).await {
                tracing::debug!(name, error = %e.message, "secret not loaded for the export check");
            }
        }
    }

    /// Writes to `path` (absolute) or where the dialog says; `None` when the
    /// operator cancelled the dialog. Never into the app's own folders, and
    /// over an existing file only with `overwrite` (or the dialog's yes).
    pub(crate) async fn save_to(
        &self,
        path: Option<String>,
        overwrite: bool,
        title: &'static str,
        suggested: &str,
        bytes: Vec<u8>,
    ) -> Result<Option<PathBuf>, ApiError> {
        let protected = self.protected_dirs();
        let dialog: Option<Arc<dyn SaveDialog + Send + Sync>> = match &path {
            Some(p) if !Path::new(p).is_absolute() => {
                return Err(ApiError {
                    code: ErrorCode::RelativePath,
                    message: format!("Give an absolute path (\"{p}\" is relative)."),
                    field: Some("path".into()),
                });
            }
            Some(_) => None,
            None => Some(self.save_dialog()),
        };
        let name = suggested.to_owned();
        // Native dialogs and file writes block; keep them off the async workers.
        tokio::task::spawn_blocking(move || {
            let (picked, overwrite) = match (path, dialog) {
                (Some(p), _) => (PathBuf::from(p), overwrite),
                (None, Some(d)) => match d.pick_save_path_titled(title, &name) {
                    Some(p) => (p, d.confirms_overwrite()),
                    None => return Ok(None),
                },
                (None, None) => return Ok(None),
            };
            let target = check_target(&picked, &protected, overwrite)?;
            write_private_file(&target, &bytes)?;
            Ok(Some(target))
        })
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the export stopped: {e}")))?
    }
}

/// `store::target::check` with its error for the operator, on the path field.
fn check_target(
    path: &Path,
    protected: &crate::store::target::Protected,
    overwrite: bool,
) -> Result<PathBuf, ApiError> {
    use crate::store::target::{TargetError, check};
    check(path, protected, overwrite).map_err(|e| ApiError {
        code: match e {
            TargetError::Protected { .. } => ErrorCode::ProtectedPath,
            TargetError::Exists { .. } => ErrorCode::FileExists,
            _ => ErrorCode::ExportFailed,
        },
        message: e.to_string(),
        field: Some("path".into()),
    })
}

fn no_kubeconfig(record: &DeploymentRecord) -> ApiError {
    use super::events::Phase;
    let message = if record.completed.contains(&Phase::Kubeconfig) {
        format!(
            "The kubeconfig of {} is no longer on this machine (removed with the deployment's files).",
            record.fqdn
        )
    } else {
        format!(
            "{} has no kubeconfig yet: it is fetched in the phase \"Fetch the kubeconfig\", which this run has not finished.",
            record.fqdn
        )
    };
    ApiError::new(ErrorCode::NoKubeconfig, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_slug("Omantel.omani.works"), "omantel.omani.works");
        assert_eq!(file_slug("../../x"), "x");
        assert_eq!(file_slug(" "), "deployment");
    }

    #[test]
    fn private_files_are_0600_and_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.yaml");
        std::fs::write(&p, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        write_private_file(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let e = write_private_file(dir.path(), b"x").unwrap_err();
        assert!(e.message.contains("folder"), "{}", e.message);
    }
}
