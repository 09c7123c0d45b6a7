//! App settings from the platform config dir. With nothing configured the app
//! runs in demo mode: a walk against a simulated cloud, nothing real created.

use serde::{Deserialize, Serialize};
use std::path::Path;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Demo,
    Live,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `Live` only when the operator (or a franchise profile) says so.
    pub mode: Option<Mode>,
    /// Pool domains PDM manages; empty means the default list.
    pub pool_domains: Vec<String>,
    /// Nameservers an own domain must be delegated to; empty means the default.
    pub nameservers: Vec<String>,
    /// Hetzner API base URL; `None` means the public API (or `HCLOUD_ENDPOINT`).
    pub hetzner_endpoint: Option<String>,
    /// Where PDM is and who logs in; the password is in the keyring.
    pub pdm: Option<PdmSettings>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PdmSettings {
    pub url: String,
    pub username: String,
    /// Name of the keyring entry holding the password.
    pub password_secret: String,
}

impl Settings {
    /// Reads `settings.json`; a missing file means "nothing configured".
    pub fn load(config_dir: &Path) -> Result<Settings, String> {
        let path = config_dir.join("settings.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not valid settings JSON: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn pools(&self) -> Vec<String> {
        if self.pool_domains.is_empty() {
            crate::engine::pdm::DEFAULT_POOLS
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            self.pool_domains.clone()
        }
    }

    pub fn nameservers(&self) -> Vec<String> {
        if self.nameservers.is_empty() {
            ["ns1.openova.io", "ns2.openova.io", "ns3.openova.io"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            self.nameservers.clone()
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Demo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_means_demo() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap().mode(), Mode::Demo);
        std::fs::write(dir.path().join("settings.json"), br#"{"mode":"live"}"#).unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap().mode(), Mode::Live);
        std::fs::write(dir.path().join("settings.json"), b"nope").unwrap();
        assert!(Settings::load(dir.path()).is_err());
    }
}
