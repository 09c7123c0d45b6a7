//! App settings from the platform config dir. With nothing configured the app
//! runs in demo mode: a walk against a simulated cloud, nothing real created.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
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
    /// OpenTofu binary; `None` means the sidecar next to the app, then PATH.
    pub tofu_path: Option<PathBuf>,
    /// Connect SSH here instead of the first control plane's public IP (tests, tunnels).
    pub ssh_host: Option<String>,
    /// SSH port of the control plane; `None` means 22.
    pub ssh_port: Option<u16>,
    /// SSH user on the control plane; `None` means `root`.
    pub ssh_user: Option<String>,
    /// How long SSH may stay unreachable while the server boots; `None` means 10 minutes.
    pub ssh_connect_timeout_s: Option<u64>,
    /// Server-side cloud-init log and kubeconfig paths, read without sudo (test servers).
    pub ssh_server_paths: Option<ServerPaths>,
    /// Kubernetes API URL replacing the kubeconfig's `server:` (tests; the API behind a tunnel).
    pub kube_api_override: Option<String>,
    /// URL the console check polls instead of `https://console.<fqdn>/` (tests).
    pub console_url_override: Option<String>,
    /// Extra trusted root (PEM file) for the console check, e.g. a private test CA.
    pub console_ca_file: Option<PathBuf>,
    /// Seconds between console attempts; `None` means 10.
    pub console_interval_s: Option<u64>,
    /// DNS server (`ip:port`) for the own-domain delegation check instead of
    /// the system's resolvers (tests; a franchise's own resolver).
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// How long the wipe's verification sweep waits for deleted objects to
    /// stop being listed (Hetzner: 5–30 s); `None` means 120.
    pub wipe_sweep_deadline_s: Option<u64>,
    /// Milliseconds between sweep rounds; `None` means 5000.
    pub wipe_poll_ms: Option<u64>,
    /// First wait after `resource_in_use` (doubled per retry, 4 retries);
    /// `None` means 6000 (6, 12, 24, 48 s as Hetzner needs).
    pub wipe_retry_base_ms: Option<u64>,
}

/// Where a (test) control plane keeps the files the run reads over SSH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerPaths {
    pub cloud_init_log: String,
    pub kubeconfig: String,
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
