//! Seams for the tests and the bench, kept out of the operator's settings:
//! where SSH really connects, the Kubernetes API and console URLs to use
//! instead of the server's, a test CA, and the wipe's pacing. They come from
//! `overrides.json` beside `settings.json`, which the app only reads: the
//! Settings page, settings saves and franchise profiles never see them.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "overrides.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Overrides {
    /// Connect SSH here instead of the first control plane's public IP (tests, tunnels).
    pub ssh_host: Option<String>,
    /// SSH port of the control plane; `None` means 22.
    pub ssh_port: Option<u16>,
    /// A region's own SSH port, by location (tests: one sshd per region).
    pub ssh_port_by_location: std::collections::BTreeMap<String, u16>,
    /// SSH user on the control plane; `None` means `root`.
    pub ssh_user: Option<String>,
    /// How long SSH may stay unreachable while the server boots; `None` means 10 minutes.
    pub ssh_connect_timeout_s: Option<u64>,
    /// How long a region's servers may take to join its cluster as Ready
    /// nodes once the API answers; `None` means 15 minutes.
    pub node_join_timeout_s: Option<u64>,
    /// The SSH agent's socket for a pasted admin key; default `$SSH_AUTH_SOCK`.
    pub ssh_agent_socket: Option<PathBuf>,
    /// Server-side cloud-init log and kubeconfig paths, read without sudo (test
    /// servers); `{location}` in them stands for the region's location.
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
    /// Free bytes every phase needs to start (plus its own margin); `None`
    /// means 32 MiB (`store::space::BASE_FLOOR`), 0 turns the check off.
    pub disk_floor_bytes: Option<u64>,
}

/// Where a (test) control plane keeps the files the run reads over SSH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerPaths {
    pub cloud_init_log: String,
    pub kubeconfig: String,
    /// The kubectl the server runs for `apply -f -`; None means k3s' own.
    pub kubectl: Option<String>,
}

impl Overrides {
    /// The overrides in `config_dir`; none when the file is absent.
    pub fn load(config_dir: &Path) -> Result<Overrides, String> {
        let path: PathBuf = config_dir.join(FILE_NAME);
        match crate::store::read_limited(&path, crate::store::MAX_KEPT_FILE) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not valid overrides JSON: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Overrides::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_from_their_own_file_and_never_from_or_into_settings_json() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("settings.json"),
            r#"{"mode": "live", "ssh_host": "10.9.9.9"}"#,
        )
        .unwrap();
        std::fs::write(
            d.path().join(FILE_NAME),
            r#"{"ssh_port": 2222, "wipe_poll_ms": 5}"#,
        )
        .unwrap();
        let s = super::super::Settings::load(d.path()).unwrap();
        assert_eq!(s.overrides.ssh_port, Some(2222));
        assert_eq!(s.overrides.wipe_poll_ms, Some(5));
        // A seam in settings.json is not one: only overrides.json sets them.
        assert_eq!(s.overrides.ssh_host, None);
        s.save(d.path()).unwrap();
        let saved = std::fs::read_to_string(d.path().join("settings.json")).unwrap();
        assert!(
            !saved.contains("ssh_port") && !saved.contains("overrides"),
            "{saved}"
        );
        // A misspelt seam is an error, not silently nothing.
        std::fs::write(d.path().join(FILE_NAME), r#"{"ssh_prot": 2222}"#).unwrap();
        assert!(Overrides::load(d.path()).unwrap_err().contains("ssh_prot"));
    }
}
