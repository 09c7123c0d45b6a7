//! App settings from the platform config dir. With nothing configured the app
//! runs in demo mode: a walk against a simulated cloud, nothing real created.
//! The file holds no secret: the PDM password and the registry credentials
//! live in the keyring under the names in `secrets::names`.

pub mod api;
mod mode_switch;
pub mod overrides;
pub mod profile;
pub mod values;

pub use overrides::{Overrides, ServerPaths};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use ts_rs::TS;

use crate::events::Phase;

pub const FILE_NAME: &str = "settings.json";
/// The platform repository Flux reconciles from when none is configured.
pub const DEFAULT_GITOPS_URL: &str = "https://github.com/openova-io/openova";
pub const DEFAULT_GITOPS_BRANCH: &str = "main";
/// The registry a mirror stands in for when none is named.
pub const DEFAULT_MIRROR_UPSTREAM: &str = "docker.io";
/// The registry the pull credential is for when none is named (the blueprint
/// charts pull from it, F-22).
pub const DEFAULT_PULL_REGISTRY: &str = "ghcr.io";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Demo,
    Live,
}

/// Which Let's Encrypt the Sovereign's cert-manager asks (reference F-29):
/// staging for test Sovereigns made again and again on one domain (its
/// certificates are not trusted by browsers, and it has no weekly limit of
/// five per set of names), production otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Certificates {
    #[default]
    Production,
    Staging,
}

impl Certificates {
    /// The ACME directory cert-manager's issuer points at.
    pub fn acme_server(self) -> &'static str {
        match self {
            Certificates::Production => "https://acme-v02.api.letsencrypt.org/directory",
            Certificates::Staging => "https://acme-staging-v02.api.letsencrypt.org/directory",
        }
    }

    pub fn is_staging(self) -> bool {
        self == Certificates::Staging
    }
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
    /// Seams for the tests and the bench (SSH target, Kubernetes API and
    /// console URLs, wipe pacing): read from `overrides.json`, never written
    /// or shown by the app.
    #[serde(skip)]
    pub overrides: Overrides,
    /// Repository and branch Flux reconciles from; `None` means the public platform repo.
    pub gitops_url: Option<String>,
    pub gitops_branch: Option<String>,
    /// A registry mirror (e.g. a Harbor proxy) the nodes pull through; its password is in the keyring.
    pub registry_mirror: Option<RegistryMirrorSettings>,
    /// Credential for pulling the platform's images; its password is in the keyring.
    pub pull_credential: Option<PullCredentialSettings>,
    /// A `tofu providers mirror` directory; `None` means the one shipped with the app, if any.
    pub provider_mirror: Option<PathBuf>,
    /// Longest each phase may take, in seconds; a missing one has its default.
    pub timeouts: PhaseTimeouts,
    /// Let's Encrypt production or staging; `None` means production.
    pub certificates: Option<Certificates>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryMirrorSettings {
    /// `https://harbor.example.org`
    pub url: String,
    /// The registry mirrored; empty means `docker.io`.
    pub upstream: String,
    /// User for the mirror; empty when it needs no login.
    pub username: String,
    /// Harbor proxy-cache project the mirror serves the upstream under
    /// (`proxy-dockerhub`); empty when the mirror serves it at its root.
    /// Older files have no such field and load as empty.
    pub project: String,
}

impl RegistryMirrorSettings {
    /// The containerd rewrite a proxy project needs: every repository of the
    /// upstream is asked for as `<project>/<repository>` (without it Harbor
    /// answers with an HTML page and containerd fails with "unexpected media
    /// type text/html"). The pattern is anchored, `^(.*)$`, the form k3s
    /// documents for `rewrite`: containerd applies it with Go's
    /// `ReplaceAllString` to the repository name (`library/nginx`), and the
    /// anchors make it one match of the whole name whatever the engine does
    /// with the empty match an unanchored `(.*)` also has at the end.
    pub fn rewrite(&self) -> Option<(String, String)> {
        let project = self.project.trim().trim_matches('/');
        (!project.is_empty()).then(|| ("^(.*)$".to_owned(), format!("{project}/$1")))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullCredentialSettings {
    /// Registry host; empty means `ghcr.io`.
    pub registry: String,
    pub username: String,
}

/// Per-phase limits in seconds (`None`: the default). Defaults follow the
/// system this app replaces: 30 min for the cloud resources and for
/// cloud-init, 60 min for the Flux watch, 20 min for the console.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct PhaseTimeouts {
    #[ts(type = "number | null")]
    pub preflight: Option<u64>,
    #[ts(type = "number | null")]
    pub reserve_domain: Option<u64>,
    #[ts(type = "number | null")]
    pub tofu_init: Option<u64>,
    #[ts(type = "number | null")]
    pub tofu_plan: Option<u64>,
    #[ts(type = "number | null")]
    pub tofu_apply: Option<u64>,
    #[ts(type = "number | null")]
    pub dns_commit: Option<u64>,
    #[ts(type = "number | null")]
    pub cloud_init: Option<u64>,
    #[ts(type = "number | null")]
    pub kubeconfig: Option<u64>,
    #[ts(type = "number | null")]
    pub bootstrap: Option<u64>,
    #[ts(type = "number | null")]
    pub console: Option<u64>,
}

/// Longest accepted limit: a day. Longer means a typo, not a plan.
pub const MAX_TIMEOUT_S: u64 = 24 * 3600;

impl PhaseTimeouts {
    /// Field names, in phase order, with the phase they bound.
    pub const PHASES: [(&'static str, Phase); 10] = [
        ("preflight", Phase::Preflight),
        ("reserve_domain", Phase::ReserveDomain),
        ("tofu_init", Phase::TofuInit),
        ("tofu_plan", Phase::TofuPlan),
        ("tofu_apply", Phase::TofuApply),
        ("dns_commit", Phase::DnsCommit),
        ("cloud_init", Phase::CloudInit),
        ("kubeconfig", Phase::Kubeconfig),
        ("bootstrap", Phase::Bootstrap),
        ("console", Phase::Console),
    ];

    pub fn default_s(phase: Phase) -> u64 {
        match phase {
            Phase::Preflight => 5 * 60,
            Phase::ReserveDomain => 2 * 60,
            // init retries transient failures with 5+15+45 s pauses.
            Phase::TofuInit => 10 * 60,
            Phase::TofuPlan => 10 * 60,
            Phase::TofuApply => 30 * 60,
            Phase::DnsCommit => 5 * 60,
            Phase::CloudInit => 30 * 60,
            // includes waiting for SSH while the server boots (10 min).
            Phase::Kubeconfig => 15 * 60,
            Phase::Bootstrap => 60 * 60,
            Phase::Console => 20 * 60,
            Phase::Done | Phase::Wipe => 30 * 60,
        }
    }

    pub fn get(&self, phase: Phase) -> Option<u64> {
        match phase {
            Phase::Preflight => self.preflight,
            Phase::ReserveDomain => self.reserve_domain,
            Phase::TofuInit => self.tofu_init,
            Phase::TofuPlan => self.tofu_plan,
            Phase::TofuApply => self.tofu_apply,
            Phase::DnsCommit => self.dns_commit,
            Phase::CloudInit => self.cloud_init,
            Phase::Kubeconfig => self.kubeconfig,
            Phase::Bootstrap => self.bootstrap,
            Phase::Console => self.console,
            Phase::Done | Phase::Wipe => None,
        }
    }

    pub fn slot(&mut self, name: &str) -> Option<&mut Option<u64>> {
        Some(match name {
            "preflight" => &mut self.preflight,
            "reserve_domain" => &mut self.reserve_domain,
            "tofu_init" => &mut self.tofu_init,
            "tofu_plan" => &mut self.tofu_plan,
            "tofu_apply" => &mut self.tofu_apply,
            "dns_commit" => &mut self.dns_commit,
            "cloud_init" => &mut self.cloud_init,
            "kubeconfig" => &mut self.kubeconfig,
            "bootstrap" => &mut self.bootstrap,
            "console" => &mut self.console,
            _ => return None,
        })
    }

    /// The limit in effect for a phase.
    pub fn limit(&self, phase: Phase) -> Duration {
        Duration::from_secs(self.get(phase).unwrap_or_else(|| Self::default_s(phase)))
    }
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
        let path = config_dir.join(FILE_NAME);
        let mut settings: Settings = match crate::store::read_limited(&path, crate::store::MAX_KEPT_FILE) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not valid settings JSON: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        settings.overrides = Overrides::load(config_dir)?;
        Ok(settings)
    }

    /// Writes `settings.json` atomically (mode 0600: it names internal hosts).
    pub fn save(&self, config_dir: &Path) -> Result<PathBuf, String> {
        let path = config_dir.join(FILE_NAME);
        crate::store::dirs::create_private_dir_all(config_dir)
            .map_err(|e| format!("cannot create {}: {e}", config_dir.display()))?;
        let mut text =
            serde_json::to_vec_pretty(self).map_err(|e| format!("settings not serialisable: {e}"))?;
        text.push(b'\n');
        crate::store::write_private_file(&path, &text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// Keyring name of the PDM password (older files name their own entry).
    pub fn pdm_password_secret(&self) -> String {
        match &self.pdm {
            Some(p) if !p.password_secret.trim().is_empty() => p.password_secret.trim().to_owned(),
            _ => crate::secrets::names::pdm_password(),
        }
    }

    pub fn gitops(&self) -> (String, String) {
        let pick = |v: &Option<String>, d: &str| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(d)
                .to_owned()
        };
        (
            pick(&self.gitops_url, DEFAULT_GITOPS_URL),
            pick(&self.gitops_branch, DEFAULT_GITOPS_BRANCH),
        )
    }

    pub fn pools(&self) -> Vec<String> {
        if self.pool_domains.is_empty() {
            crate::pdm::DEFAULT_POOLS.iter().map(|s| s.to_string()).collect()
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

    #[test]
    fn a_mirror_saved_before_the_project_field_loads_without_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("settings.json"),
            br#"{"registry_mirror":{"url":"https://harbor.example.org","upstream":"","username":"robot"}}"#,
        )
        .unwrap();
        let m = Settings::load(dir.path()).unwrap().registry_mirror.unwrap();
        assert_eq!(m.project, "");
        assert_eq!(m.rewrite(), None);
        let m = RegistryMirrorSettings {
            project: "proxy-dockerhub".into(),
            ..m
        };
        assert_eq!(
            m.rewrite(),
            Some(("^(.*)$".to_owned(), "proxy-dockerhub/$1".to_owned()))
        );
    }
}
