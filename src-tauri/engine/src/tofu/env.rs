//! The `tofu` child's environment: the only way secrets reach it (never a
//! file in the work dir). Inherited `TF_*` / `HCLOUD_*` variables are removed
//! first, so an operator's shell (say, a token for another project, or
//! TF_CLI_ARGS) cannot change what runs.

use std::path::PathBuf;

use super::cloudinit::RenderedCloudInit;
use super::encryption;
use super::error::TofuError;
use super::hcl;
use super::secret::Secret;

/// Linux refuses a single environment string longer than 32 pages.
pub const MAX_ENV_VALUE: usize = 128 * 1024;

#[derive(Debug, Clone)]
pub struct TofuSecrets {
    pub hcloud_token: Secret,
    /// Encrypts state and plan (pbkdf2, at least 16 characters); kept in the keyring.
    pub state_passphrase: Secret,
}

#[derive(Debug, Clone, Default)]
pub struct TofuEnvOptions {
    /// Overrides the Hetzner API base URL (`HCLOUD_ENDPOINT`).
    pub hcloud_endpoint: Option<String>,
    /// A CLI config written by `cliconfig::write` (offline provider mirror).
    pub cli_config_file: Option<PathBuf>,
    /// Per-user provider cache (`TF_PLUGIN_CACHE_DIR`).
    pub plugin_cache_dir: Option<PathBuf>,
}

/// A prepared environment; values may be secret, so Debug shows names only.
#[derive(Clone, Default)]
pub struct ChildEnv {
    vars: Vec<(String, String)>,
}

impl std::fmt::Debug for ChildEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.vars.iter().map(|(k, _)| k)).finish()
    }
}

/// Prefixes of inherited variables that are dropped before ours are set.
pub const SCRUBBED_PREFIXES: [&str; 3] = ["TF_", "HCLOUD_", "HETZNER_"];

impl ChildEnv {
    pub fn build(
        secrets: &TofuSecrets,
        user_data: &RenderedCloudInit,
        options: &TofuEnvOptions,
    ) -> Result<ChildEnv, TofuError> {
        if secrets.state_passphrase.expose().chars().count() < encryption::MIN_PASSPHRASE_CHARS {
            return Err(TofuError::InvalidInput(
                "the state passphrase needs at least 16 characters".to_owned(),
            ));
        }
        if secrets.hcloud_token.expose().trim().is_empty() {
            return Err(TofuError::InvalidInput("the Hetzner token is empty".to_owned()));
        }
        let mut vars = vec![
            ("TF_IN_AUTOMATION".to_owned(), "1".to_owned()),
            ("CHECKPOINT_DISABLE".to_owned(), "1".to_owned()),
            ("TF_INPUT".to_owned(), "0".to_owned()),
            (
                "HCLOUD_TOKEN".to_owned(),
                secrets.hcloud_token.expose().to_owned(),
            ),
            // OpenTofu encrypts state and plan from this; Terraform ignores it.
            (
                encryption::ENV.to_owned(),
                encryption::config(&secrets.state_passphrase),
            ),
            (
                "TF_VAR_cloud_init_control_plane".to_owned(),
                hcl::string_map(&user_data.control_plane),
            ),
            (
                "TF_VAR_cloud_init_worker".to_owned(),
                hcl::string_map(&user_data.worker),
            ),
        ];
        if let Some(e) = options.hcloud_endpoint.as_deref().filter(|e| !e.is_empty()) {
            vars.push(("HCLOUD_ENDPOINT".to_owned(), e.to_owned()));
        }
        if let Some(p) = &options.cli_config_file {
            vars.push(("TF_CLI_CONFIG_FILE".to_owned(), p.display().to_string()));
        }
        if let Some(p) = &options.plugin_cache_dir {
            vars.push(("TF_PLUGIN_CACHE_DIR".to_owned(), p.display().to_string()));
        }
        for (k, v) in &vars {
            let bytes = k.len() + 1 + v.len();
            if bytes >= MAX_ENV_VALUE {
                return Err(TofuError::EnvTooLarge {
                    name: k.clone(),
                    bytes,
                    limit: MAX_ENV_VALUE - 1,
                });
            }
        }
        Ok(ChildEnv { vars })
    }

    /// Test doubles and the wipe path add their own values (e.g. a scripted
    /// failure for the stand-in).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.vars.retain(|(k, _)| *k != key);
        self.vars.push((key, value.into()));
    }

    pub fn names(&self) -> Vec<&str> {
        self.vars.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub(crate) fn vars(&self) -> &[(String, String)] {
        &self.vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tofu::cloudinit::{render, tests::boot, tests::triangle_ha};

    fn secrets() -> TofuSecrets {
        TofuSecrets {
            hcloud_token: Secret::new("hcloud-token-canary-0123456789"),
            state_passphrase: Secret::new("a passphrase of some length"),
        }
    }

    #[test]
    fn carries_secrets_and_automation_flags() {
        let r = render(&triangle_ha(), &boot(45)).unwrap();
        let env = ChildEnv::build(&secrets(), &r, &TofuEnvOptions::default()).unwrap();
        assert_eq!(env.get("HCLOUD_TOKEN"), Some("hcloud-token-canary-0123456789"));
        assert_eq!(env.get("TF_IN_AUTOMATION"), Some("1"));
        assert_eq!(env.get("CHECKPOINT_DISABLE"), Some("1"));
        assert!(env.get("HCLOUD_ENDPOINT").is_none());
        let enc = env.get("TF_ENCRYPTION").unwrap();
        assert!(enc.contains("\"a passphrase of some length\""), "{enc}");
        assert!(
            env.get("TF_VAR_state_passphrase").is_none(),
            "the module declares no such variable"
        );
        let cp = env.get("TF_VAR_cloud_init_control_plane").unwrap();
        assert!(cp.starts_with("{\"ash\" = \"#cloud-config\\n"));
        assert!(cp.len() < MAX_ENV_VALUE);
        assert!(!format!("{env:?}").contains("canary"));
    }

    #[test]
    fn short_passphrase_and_oversize_values_are_refused() {
        let r = render(&triangle_ha(), &boot(1)).unwrap();
        let mut s = secrets();
        s.state_passphrase = Secret::new("short-pass");
        assert!(matches!(
            ChildEnv::build(&s, &r, &TofuEnvOptions::default()),
            Err(TofuError::InvalidInput(_))
        ));
        let mut big = r.clone();
        for k in ["a", "b", "c", "d", "e"] {
            big.control_plane.insert(k.into(), "x".repeat(30_000));
        }
        assert!(matches!(
            ChildEnv::build(&secrets(), &big, &TofuEnvOptions::default()),
            Err(TofuError::EnvTooLarge { .. })
        ));
    }
}
