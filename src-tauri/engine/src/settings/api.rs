//! The settings commands: read, save (every field error at once), and the
//! franchise profile's preview and apply. Secrets go to the keyring and come
//! back only as "set" / "not set".

use crate::error::ErrorCode;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::profile::{self, OpenDialog, SettingChange};
use super::values::{SecretKey, SettingsValues};
use super::{Mode, PhaseTimeouts, Settings};
use crate::Engine;
use crate::error::ApiError;
use crate::secrets::SecretStore;
use crate::wizard::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretState {
    Set,
    NotSet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SecretStates {
    pub pdm_password: SecretState,
    pub registry_mirror_password: SecretState,
    pub pull_password: SecretState,
}

impl SecretStates {
    fn from_set(set: &[SecretKey]) -> SecretStates {
        let s = |k| {
            if set.contains(&k) {
                SecretState::Set
            } else {
                SecretState::NotSet
            }
        };
        SecretStates {
            pdm_password: s(SecretKey::PdmPassword),
            registry_mirror_password: s(SecretKey::RegistryMirrorPassword),
            pull_password: s(SecretKey::PullPassword),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    pub values: SettingsValues,
    pub secrets: SecretStates,
    /// What an empty field means (placeholders on the page).
    pub defaults: SettingsValues,
    /// Where the settings are kept, and which keyring holds the secrets.
    pub config_file: String,
    pub keyring: String,
    /// The mode the app runs in now: a saved change takes effect at once
    /// unless something keeps it, and then `mode_pending` says what.
    pub running_mode: Mode,
    pub mode_pending: Option<String>,
    /// Set when the keyring could not be asked: the page still opens and says why.
    pub keyring_error: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SecretValue {
    pub key: SecretKey,
    pub value: String,
}

/// Masked: a logged call (`{:?}` of a command) must not carry the value.
impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretValue")
            .field("key", &self.key)
            .field("value", &"********")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingsSaveArgs {
    pub values: SettingsValues,
    /// New values for these secrets.
    #[serde(default)]
    pub set_secrets: Vec<SecretValue>,
    /// Remove these secrets from the keyring.
    #[serde(default)]
    pub clear_secrets: Vec<SecretKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SaveOutcome {
    /// False when a field was wrong: nothing was written.
    pub saved: bool,
    pub errors: Vec<FieldError>,
    pub settings: SettingsView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PathArgs {
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SecretPreview {
    pub key: SecretKey,
    /// Whether the keyring holds one now (the profile's value replaces it).
    pub now: SecretState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfilePreview {
    pub path: String,
    pub name: String,
    pub version: u32,
    pub changes: Vec<SettingChange>,
    /// Secrets the profile brings, values never shown.
    pub secrets: Vec<SecretPreview>,
    /// Problems with the settings the profile would leave; Apply refuses them.
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PickOutcome {
    /// The chosen file; `None` when cancelled or when there is no dialog.
    pub path: Option<String>,
    /// False without a window (browser, CLI): type the path instead.
    pub dialog: bool,
}

/// The defaults an empty field stands for.
fn defaults() -> SettingsValues {
    let d = Settings::default();
    let mut t = PhaseTimeouts::default();
    for (name, phase) in PhaseTimeouts::PHASES {
        if let Some(slot) = t.slot(name) {
            *slot = Some(PhaseTimeouts::default_s(phase));
        }
    }
    let (gitops_url, gitops_branch) = d.gitops();
    SettingsValues {
        mode: Some(Mode::Demo),
        pool_domains: d.pools(),
        nameservers: d.nameservers(),
        gitops_url,
        gitops_branch,
        registry_mirror_upstream: super::DEFAULT_MIRROR_UPSTREAM.into(),
        pull_registry: super::DEFAULT_PULL_REGISTRY.into(),
        hetzner_endpoint: crate::hetzner::HetznerConfig::default().base_url,
        timeouts: t,
        certificates: Some(super::Certificates::Production),
        ..Default::default()
    }
}

fn blocking_err(e: tokio::task::JoinError) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("the keyring call stopped: {e}"))
}

impl Engine {
    /// The settings in effect (a copy: a save replaces them for the next run).
    pub fn current_settings(&self) -> Settings {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The keyring for the settings' secrets. Demo mode keeps the wizard's
    /// pretend secrets in memory, but settings are for live runs, so their
    /// secrets go to the OS keyring even then (opened on first use).
    fn settings_store(&self) -> Arc<dyn SecretStore> {
        self.settings_secrets
            .get_or_init(|| {
                Arc::new(crate::secrets::OsKeyring::detect(
                    crate::secrets::store::KEYRING_SERVICE,
                ))
            })
            .clone()
    }

    /// Which settings secrets the keyring holds for these settings.
    async fn secrets_present(&self, settings: &Settings) -> Result<Vec<SecretKey>, ApiError> {
        let store = self.settings_store();
        let names: Vec<(SecretKey, String)> = SecretKey::ALL
            .into_iter()
            .map(|k| (k, k.secret_name(settings)))
            .collect();
        let found = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for (k, n) in names {
                if store.get(&n)?.is_some_and(|v| !v.is_empty()) {
                    out.push(k);
                }
            }
            Ok::<_, crate::secrets::SecretError>(out)
        })
        .await
        .map_err(blocking_err)??;
        Ok(found)
    }

    async fn settings_view(&self) -> Result<SettingsView, ApiError> {
        let s = self.current_settings();
        let (present, keyring_error) = match self.secrets_present(&s).await {
            Ok(p) => (p, None),
            Err(e) => (Vec::new(), Some(e.message)),
        };
        let running_mode = self.mode();
        Ok(SettingsView {
            values: SettingsValues::from_settings(&s),
            secrets: SecretStates::from_set(&present),
            defaults: defaults(),
            config_file: self.paths.config_dir.join(super::FILE_NAME).display().to_string(),
            keyring: self.settings_store().backend(),
            mode_pending: (s.mode() != running_mode).then(|| {
                self.mode_blocker()
                    .unwrap_or_else(|| "The saved mode takes effect at the next start.".into())
            }),
            running_mode,
            keyring_error,
        })
    }

    pub async fn settings_get(&self) -> Result<SettingsView, ApiError> {
        self.settings_view().await
    }

    pub async fn settings_save(&self, args: SettingsSaveArgs) -> Result<SaveOutcome, ApiError> {
        let mut set = BTreeMap::new();
        for s in args.set_secrets {
            set.insert(s.key, s.value);
        }
        self.save_settings(args.values, set, &args.clear_secrets).await
    }

    /// Validates, then writes the secrets to the keyring and the rest to the
    /// config file; with any field error nothing is written.
    async fn save_settings(
        &self,
        values: SettingsValues,
        set: BTreeMap<SecretKey, String>,
        clear: &[SecretKey],
    ) -> Result<SaveOutcome, ApiError> {
        let current = self.current_settings();
        let next = values.apply_to(&current);
        let mut errors = Vec::new();
        for (k, v) in &set {
            crate::secrets::register_secret(v);
            if v.is_empty() {
                errors.push(FieldError {
                    field: k.as_str().into(),
                    message: "Type the new value, or leave the field alone to keep the saved one.".into(),
                });
            } else if v.len() > crate::secrets::store::MAX_SECRET_LEN {
                errors.push(FieldError {
                    field: k.as_str().into(),
                    message: "This is longer than the keyring holds.".into(),
                });
            }
        }
        let mut after: Vec<SecretKey> = self
            .secrets_present(&next)
            .await?
            .into_iter()
            .filter(|k| !clear.contains(k))
            .collect();
        for k in set.keys() {
            if !after.contains(k) {
                after.push(*k);
            }
        }
        errors.extend(values.validate(&after));
        if !errors.is_empty() {
            return Ok(SaveOutcome {
                saved: false,
                errors,
                settings: self.settings_view().await?,
            });
        }
        let store = self.settings_store();
        let writes: Vec<(String, Option<String>)> = clear
            .iter()
            .filter(|k| !set.contains_key(k))
            .map(|k| (k.secret_name(&next), None))
            .chain(set.iter().map(|(k, v)| (k.secret_name(&next), Some(v.clone()))))
            .collect();
        tokio::task::spawn_blocking(move || {
            for (name, value) in writes {
                match value {
                    Some(v) => store.set(&name, &v)?,
                    None => {
                        store.delete(&name)?;
                    }
                }
            }
            Ok::<_, crate::secrets::SecretError>(())
        })
        .await
        .map_err(blocking_err)??;
        let path = next.save(&self.paths.config_dir).map_err(|e| {
            ApiError::new(
                ErrorCode::SettingsWriteFailed,
                format!("The settings could not be saved: {e}"),
            )
        })?;
        tracing::info!(path = %path.display(), "settings saved");
        let wanted = next.mode();
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = next;
        // The reason it waits, if it does, is in the view (mode_pending).
        let _ = self.switch_mode(wanted);
        Ok(SaveOutcome {
            saved: true,
            errors: Vec::new(),
            settings: self.settings_view().await?,
        })
    }

    /// What importing the profile at `path` would change (secrets masked).
    pub async fn profile_preview(&self, args: PathArgs) -> Result<ProfilePreview, ApiError> {
        let path = PathBuf::from(args.path.trim());
        let p = tokio::task::spawn_blocking({
            let path = path.clone();
            move || profile::read(&path)
        })
        .await
        .map_err(blocking_err)??;
        let current = self.current_settings();
        let now = SettingsValues::from_settings(&current);
        let merged = p.merged(&now)?;
        let present = self.secrets_present(&current).await?;
        let mut after = present.clone();
        after.extend(p.secrets.keys().copied().filter(|k| !present.contains(k)));
        Ok(ProfilePreview {
            path: path.display().to_string(),
            name: p.name.clone(),
            version: p.version,
            changes: profile::changes(&now, &merged),
            secrets: p
                .secrets
                .keys()
                .map(|k| SecretPreview {
                    key: *k,
                    now: if present.contains(k) {
                        SecretState::Set
                    } else {
                        SecretState::NotSet
                    },
                })
                .collect(),
            errors: merged.validate(&after),
        })
    }

    /// Imports the profile: its settings to the config file, its secrets
    /// straight into the keyring. Refused as a whole when a field is wrong.
    pub async fn profile_apply(&self, args: PathArgs) -> Result<SaveOutcome, ApiError> {
        let path = PathBuf::from(args.path.trim());
        let p = tokio::task::spawn_blocking(move || profile::read(&path))
            .await
            .map_err(blocking_err)??;
        let now = SettingsValues::from_settings(&self.current_settings());
        let merged = p.merged(&now)?;
        self.save_settings(merged, p.secrets, &[]).await
    }

    /// Opens the native "open file" dialog for a profile, where there is one.
    pub async fn profile_pick(&self) -> Result<PickOutcome, ApiError> {
        let dialog = self.open_dialog.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(dialog) = dialog else {
            return Ok(PickOutcome {
                path: None,
                dialog: false,
            });
        };
        // Native dialogs block; keep them off the async workers.
        let path = tokio::task::spawn_blocking(move || {
            dialog.pick_open_path("Import a franchise profile", &["json"])
        })
        .await
        .map_err(blocking_err)?;
        Ok(PickOutcome {
            path: path.map(|p: PathBuf| p.display().to_string()),
            dialog: true,
        })
    }

    /// Lets the window put a native "open" dialog in front of profile import.
    pub fn set_open_dialog(&self, dialog: Arc<dyn OpenDialog + Send + Sync>) {
        *self.open_dialog.write().unwrap_or_else(|e| e.into_inner()) = Some(dialog);
    }
}
