//! The Credentials step's engine calls: the Hetzner token check (its token
//! goes to the keyring, never into answers or drafts), the admin key
//! (generated here with its private half in the keyring, or pasted), and
//! the export of that private half through a save dialog.

use crate::error::ErrorCode;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Engine;
use super::catalog::offers::from_token_check;
use super::hetzner::{HetznerConfig, TokenScope, check_token};
use super::keys::agent::{self, AgentCheck};
use super::keys::{
    AdminKeyInfo, GeneratedKey, ParsedPublicKey, SaveDialog, export_private_key, generate_admin_key,
    parse_public_key, suggested_key_file_name,
};
use super::secrets::{names, register_secret};
use super::settings::Mode;
use super::wizard::model::SshKeyMode;
use super::wizard::{FieldError, WizardAnswers};
use crate::error::ApiError;

/// Secrets of a wizard that has no deployment yet are kept under this owner.
pub const DRAFT_OWNER: &str = "draft";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TokenArgs {
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TokenCheckView {
    pub scope: TokenScope,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FqdnArgs {
    /// The Sovereign's name when already known (key comment, file name).
    pub fqdn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SshParseArgs {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExportOutcome {
    /// Where the key was written; `None` when the operator cancelled.
    pub path: Option<String>,
}

/// Without a window, "save as" writes into the app's own exports folder and
/// says where: a bridge or CLI user on a headless machine has no dialog.
pub struct ExportsFolder {
    pub dir: PathBuf,
}

impl SaveDialog for ExportsFolder {
    /// A free name there: an earlier export is never replaced.
    fn pick_save_path(&self, suggested_name: &str) -> Option<PathBuf> {
        let _ = crate::store::dirs::create_private_dir_all(&self.dir);
        Some(crate::store::target::free_name(&self.dir, suggested_name))
    }
}

impl Engine {
    pub async fn token_check(&self, args: TokenArgs) -> Result<TokenCheckView, ApiError> {
        let token = args.token.trim().to_owned();
        let (scope, message) = match self.mode() {
            Mode::Demo => super::demo::hetzner::check_token(&token),
            Mode::Live => {
                let check = self.probe_token(&token, "credentials.token").await?;
                if check.scope == TokenScope::ReadWrite {
                    let fetched = time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                    self.set_live_offers(from_token_check(&check, fetched));
                }
                (check.scope, check.message)
            }
        };
        if scope == TokenScope::ReadWrite {
            self.set_secret(&names::hetzner_token(DRAFT_OWNER), &token)
                .await?;
        }
        Ok(TokenCheckView { scope, message })
    }

    /// Checks the cluster's own token as the provisioning one is checked
    /// (the cloud controller creates load balancers and volumes with it, so
    /// read & write); it goes to the keyring, the offers stay as they are.
    pub async fn cluster_token_check(&self, args: TokenArgs) -> Result<TokenCheckView, ApiError> {
        let token = args.token.trim().to_owned();
        let (scope, message) = match self.mode() {
            Mode::Demo => super::demo::hetzner::check_token(&token),
            Mode::Live => {
                let check = self.probe_token(&token, "credentials.cluster_token").await?;
                (check.scope, check.message)
            }
        };
        if scope == TokenScope::ReadWrite {
            self.set_secret(&names::cluster_token(DRAFT_OWNER), &token)
                .await?;
        }
        Ok(TokenCheckView { scope, message })
    }

    async fn probe_token(&self, token: &str, field: &str) -> Result<crate::hetzner::TokenCheck, ApiError> {
        register_secret(token);
        let config = match &self.current_settings().hetzner_endpoint {
            Some(url) => HetznerConfig::with_base_url(url.clone()),
            None => HetznerConfig::from_env(),
        };
        check_token(&config, token).await.map_err(|e| ApiError {
            field: Some(field.into()),
            ..ApiError::from(e)
        })
    }

    pub async fn ssh_generate(&self, args: FqdnArgs) -> Result<AdminKeyInfo, ApiError> {
        let key = generate_admin_key(args.fqdn.trim())?;
        let private = key.private_openssh()?;
        self.set_secret(&names::admin_private_key(DRAFT_OWNER), &private)
            .await?;
        Ok(key.info())
    }

    pub async fn ssh_parse(&self, args: SshParseArgs) -> Result<ParsedPublicKey, ApiError> {
        parse_public_key(&args.text).map_err(|e| ApiError {
            field: Some("credentials.ssh_public_key".into()),
            ..ApiError::from(e)
        })
    }

    /// Whether the operator's SSH agent holds a pasted public key (the app
    /// logs in through it, never seeing the private half).
    pub async fn ssh_agent_check(&self, args: SshParseArgs) -> Result<AgentCheck, ApiError> {
        let parsed = self.ssh_parse(args).await?;
        let public = russh::keys::PublicKey::from_openssh(&parsed.openssh).map_err(|e| ApiError {
            field: Some("credentials.ssh_public_key".into()),
            ..ApiError::new(ErrorCode::InvalidAnswers, format!("The key cannot be read: {e}"))
        })?;
        Ok(agent::check(self.agent_socket().as_deref(), &public).await)
    }

    /// The SSH agent's socket: Settings' override, else `SSH_AUTH_SOCK`.
    pub(crate) fn agent_socket(&self) -> Option<PathBuf> {
        agent::agent_socket(self.current_settings().overrides.ssh_agent_socket.as_deref())
    }

    /// Review's and Provision's guard: a live run with a pasted key logs
    /// in through the agent, so the agent must hold it before anything is
    /// created. None when the key is generated, the app is in demo mode, or
    /// the key itself is wrong (its step says that).
    pub(crate) async fn pasted_key_problem(&self, answers: &WizardAnswers) -> Option<FieldError> {
        if self.mode() != Mode::Live || answers.credentials.ssh_key_mode != SshKeyMode::Paste {
            return None;
        }
        let parsed = parse_public_key(&answers.credentials.ssh_public_key).ok()?;
        let public = russh::keys::PublicKey::from_openssh(&parsed.openssh).ok()?;
        let check = agent::check(self.agent_socket().as_deref(), &public).await;
        (!check.held()).then(|| {
            FieldError::new(
                "credentials.ssh_public_key",
                format!(
                    "A live run with a pasted key needs your SSH agent to hold it. {}",
                    check.message
                ),
            )
        })
    }

    pub async fn ssh_export(&self, args: FqdnArgs) -> Result<ExportOutcome, ApiError> {
        let Some(private) = self.secret(&names::admin_private_key(DRAFT_OWNER)).await? else {
            return Err(ApiError::new(
                ErrorCode::NoGeneratedKey,
                "There is no generated key to export; generate one first.",
            ));
        };
        let key = GeneratedKey::from_private_openssh(&private)?;
        let dialog = self.save_dialog();
        let name = suggested_key_file_name(&args.fqdn);
        // Native dialogs block; keep them off the async workers.
        let protected = self.protected_dirs();
        let path =
            tokio::task::spawn_blocking(move || export_private_key(dialog.as_ref(), &name, &key, &protected))
                .await
                .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the export stopped: {e}")))??;
        Ok(ExportOutcome {
            path: path.map(|p| p.display().to_string()),
        })
    }

    /// The app's own folders, which no export may write into (but its
    /// exports folder).
    pub(crate) fn protected_dirs(&self) -> crate::store::target::Protected {
        crate::store::target::Protected {
            dirs: vec![
                self.paths.data_dir.clone(),
                self.paths.config_dir.clone(),
                self.paths.log_dir.clone(),
            ],
            allowed: vec![self.exports_dir()],
        }
    }

    pub(crate) fn exports_dir(&self) -> PathBuf {
        self.paths.data_dir.join("exports")
    }

    /// The dialog the adapter installed, or the exports folder.
    pub(crate) fn save_dialog(&self) -> Arc<dyn SaveDialog + Send + Sync> {
        let set = self.save_dialog.read().unwrap_or_else(|e| e.into_inner()).clone();
        set.unwrap_or_else(|| {
            Arc::new(ExportsFolder {
                dir: self.exports_dir(),
            })
        })
    }

    /// Lets an adapter put a native "save as" dialog in front of exports.
    pub fn set_save_dialog(&self, dialog: Arc<dyn SaveDialog + Send + Sync>) {
        *self.save_dialog.write().unwrap_or_else(|e| e.into_inner()) = Some(dialog);
    }

    pub(crate) async fn secret(&self, name: &str) -> Result<Option<String>, ApiError> {
        let store = self.secrets();
        let name = name.to_owned();
        let value = tokio::task::spawn_blocking(move || store.get(&name))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the keyring call stopped: {e}")))??;
        if let Some(v) = &value {
            register_secret(v);
        }
        Ok(value)
    }

    pub(crate) async fn set_secret(&self, name: &str, value: &str) -> Result<(), ApiError> {
        register_secret(value);
        let store = self.secrets();
        let (name, value) = (name.to_owned(), value.to_owned());
        tokio::task::spawn_blocking(move || store.set(&name, &value))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the keyring call stopped: {e}")))??;
        Ok(())
    }
}
