//! The settings as the Settings page, the CLI and a franchise profile see
//! them: flat, named fields (the names are the CLI keys and the field names
//! of errors), no secret among them, and one validation for all three.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{
    MAX_TIMEOUT_S, Mode, PdmSettings, PhaseTimeouts, PullCredentialSettings, RegistryMirrorSettings, Settings,
};
use crate::wizard::FieldError;

/// Every operator-facing setting; an empty string or list means "the default".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsValues {
    pub mode: Option<Mode>,
    pub pdm_url: String,
    pub pdm_username: String,
    pub pool_domains: Vec<String>,
    pub nameservers: Vec<String>,
    pub gitops_url: String,
    pub gitops_branch: String,
    pub registry_mirror_url: String,
    pub registry_mirror_upstream: String,
    pub registry_mirror_username: String,
    /// Harbor proxy-cache project the mirror serves the upstream under.
    pub registry_mirror_project: String,
    pub pull_registry: String,
    pub pull_username: String,
    pub hetzner_endpoint: String,
    pub tofu_path: String,
    pub provider_mirror: String,
    pub timeouts: PhaseTimeouts,
    /// Let's Encrypt production (`None`) or staging.
    pub certificates: Option<super::Certificates>,
}

/// The secrets a setting needs; their values only ever travel towards the keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretKey {
    PdmPassword,
    RegistryMirrorPassword,
    PullPassword,
}

impl SecretKey {
    pub const ALL: [SecretKey; 3] = [
        SecretKey::PdmPassword,
        SecretKey::RegistryMirrorPassword,
        SecretKey::PullPassword,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKey::PdmPassword => "pdm_password",
            SecretKey::RegistryMirrorPassword => "registry_mirror_password",
            SecretKey::PullPassword => "pull_password",
        }
    }

    pub fn parse(s: &str) -> Option<SecretKey> {
        SecretKey::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The keyring entry for this secret under the given settings.
    pub fn secret_name(self, settings: &Settings) -> String {
        use crate::secrets::names;
        match self {
            SecretKey::PdmPassword => settings.pdm_password_secret(),
            SecretKey::RegistryMirrorPassword => names::registry_mirror_password(),
            SecretKey::PullPassword => names::pull_password(),
        }
    }
}

/// Keys of the plain settings, for the CLI's `settings set` and its help.
pub const KEYS: [&str; 17] = [
    "mode",
    "pdm_url",
    "pdm_username",
    "pool_domains",
    "nameservers",
    "gitops_url",
    "gitops_branch",
    "registry_mirror_url",
    "registry_mirror_upstream",
    "registry_mirror_username",
    "registry_mirror_project",
    "pull_registry",
    "pull_username",
    "hetzner_endpoint",
    "tofu_path",
    "provider_mirror",
    "certificates",
];

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn path_opt(s: &str) -> Option<PathBuf> {
    opt(s).map(PathBuf::from)
}

fn path_str(p: &Option<PathBuf>) -> String {
    p.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
}

fn clean_list(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

impl SettingsValues {
    pub fn from_settings(s: &Settings) -> SettingsValues {
        let pdm = s.pdm.clone().unwrap_or_default();
        let mirror = s.registry_mirror.clone().unwrap_or_default();
        let pull = s.pull_credential.clone().unwrap_or_default();
        SettingsValues {
            mode: s.mode,
            pdm_url: pdm.url,
            pdm_username: pdm.username,
            pool_domains: s.pool_domains.clone(),
            nameservers: s.nameservers.clone(),
            gitops_url: s.gitops_url.clone().unwrap_or_default(),
            gitops_branch: s.gitops_branch.clone().unwrap_or_default(),
            registry_mirror_url: mirror.url,
            registry_mirror_upstream: mirror.upstream,
            registry_mirror_username: mirror.username,
            registry_mirror_project: mirror.project,
            pull_registry: pull.registry,
            pull_username: pull.username,
            hetzner_endpoint: s.hetzner_endpoint.clone().unwrap_or_default(),
            tofu_path: path_str(&s.tofu_path),
            provider_mirror: path_str(&s.provider_mirror),
            timeouts: s.timeouts.clone(),
            certificates: s.certificates,
        }
    }

    /// `base` with these values in place; what the page does not show (the
    /// test overrides, which live in their own file) is kept as it is.
    pub fn apply_to(&self, base: &Settings) -> Settings {
        let mut s = base.clone();
        s.mode = self.mode;
        s.pdm = match (opt(&self.pdm_url), opt(&self.pdm_username)) {
            (None, None) => None,
            (url, user) => Some(PdmSettings {
                url: url.unwrap_or_default(),
                username: user.unwrap_or_default(),
                password_secret: base
                    .pdm
                    .as_ref()
                    .map(|p| p.password_secret.clone())
                    .unwrap_or_default(),
            }),
        };
        s.pool_domains = clean_list(&self.pool_domains);
        s.nameservers = clean_list(&self.nameservers);
        s.gitops_url = opt(&self.gitops_url);
        s.gitops_branch = opt(&self.gitops_branch);
        s.registry_mirror = opt(&self.registry_mirror_url).map(|url| RegistryMirrorSettings {
            url,
            upstream: self.registry_mirror_upstream.trim().to_owned(),
            username: self.registry_mirror_username.trim().to_owned(),
            project: self.registry_mirror_project.trim().to_owned(),
        });
        s.pull_credential = opt(&self.pull_username).map(|username| PullCredentialSettings {
            registry: self.pull_registry.trim().to_owned(),
            username,
        });
        s.hetzner_endpoint = opt(&self.hetzner_endpoint);
        s.tofu_path = path_opt(&self.tofu_path);
        s.provider_mirror = path_opt(&self.provider_mirror);
        s.timeouts = self.timeouts.clone();
        s.certificates = self.certificates;
        s
    }

    /// Sets one setting from text (the CLI's `settings set KEY VALUE`).
    /// Lists are comma- or space-separated; an empty value resets to the default.
    pub fn set_key(&mut self, key: &str, value: &str) -> Result<(), FieldError> {
        let v = value.trim().to_owned();
        let list = || -> Vec<String> {
            v.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Some(t) = key.strip_prefix("timeouts.") {
            let field = key.to_owned();
            let parsed = if v.is_empty() {
                None
            } else {
                Some(v.parse::<u64>().map_err(|_| FieldError {
                    field: field.clone(),
                    message: format!("\"{v}\" is not a whole number of seconds."),
                })?)
            };
            let slot = self.timeouts.slot(t).ok_or_else(|| FieldError {
                field: field.clone(),
                message: format!("There is no phase \"{t}\"."),
            })?;
            *slot = parsed;
            return Ok(());
        }
        match key {
            "mode" => {
                self.mode = match v.as_str() {
                    "" => None,
                    "demo" => Some(Mode::Demo),
                    "live" => Some(Mode::Live),
                    _ => {
                        return Err(FieldError {
                            field: key.into(),
                            message: "The mode is \"demo\" or \"live\".".into(),
                        });
                    }
                }
            }
            "pdm_url" => self.pdm_url = v,
            "pdm_username" => self.pdm_username = v,
            "pool_domains" => self.pool_domains = list(),
            "nameservers" => self.nameservers = list(),
            "gitops_url" => self.gitops_url = v,
            "gitops_branch" => self.gitops_branch = v,
            "registry_mirror_url" => self.registry_mirror_url = v,
            "registry_mirror_upstream" => self.registry_mirror_upstream = v,
            "registry_mirror_username" => self.registry_mirror_username = v,
            "registry_mirror_project" => self.registry_mirror_project = v,
            "pull_registry" => self.pull_registry = v,
            "pull_username" => self.pull_username = v,
            "hetzner_endpoint" => self.hetzner_endpoint = v,
            "tofu_path" => self.tofu_path = v,
            "provider_mirror" => self.provider_mirror = v,
            "certificates" => {
                self.certificates = match v.as_str() {
                    "" => None,
                    "production" => Some(super::Certificates::Production),
                    "staging" => Some(super::Certificates::Staging),
                    _ => {
                        return Err(FieldError {
                            field: key.into(),
                            message: "Certificates come from Let's Encrypt \"production\" or \"staging\"."
                                .into(),
                        });
                    }
                }
            }
            _ => {
                return Err(FieldError {
                    field: key.into(),
                    message: format!(
                        "There is no setting \"{key}\". Settings: {}, timeouts.<phase>.",
                        KEYS.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Every problem, each on the field it concerns. `secrets_set` says which
    /// secrets will be in the keyring after the save (a password without its
    /// user name is an error the operator should see now, not at run time).
    pub fn validate(&self, secrets_set: &[SecretKey]) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut err = |field: &str, message: String| {
            errs.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let has = |k: SecretKey| secrets_set.contains(&k);

        // Live mode only with what a live run needs: pool names are reserved
        // with the pool-domain-manager, so its address, user and password.
        if self.mode == Some(Mode::Live) {
            let why = "Live mode needs it: a run reserves its pool name with the pool-domain-manager.";
            let (url, user, pass) = (
                opt(&self.pdm_url).is_some(),
                opt(&self.pdm_username).is_some(),
                has(SecretKey::PdmPassword),
            );
            let mut missing = Vec::new();
            if !url {
                missing.push("PDM's address");
            }
            if !user {
                missing.push("its user name");
            }
            if !pass {
                missing.push("its password");
            }
            if !missing.is_empty() {
                err(
                    "mode",
                    format!(
                        "Live mode needs {} (below); until then the app stays in demo mode.",
                        missing.join(", ")
                    ),
                );
            }
            // With a user or password but no address, the check below says so.
            if !url && !user && !pass {
                err("pdm_url", format!("Give PDM's address. {why}"));
            }
            // With an address but no user, the check below says so.
            if !url && !user {
                err("pdm_username", format!("Give PDM's user name. {why}"));
            }
            if !pass {
                err("pdm_password", format!("Give PDM's password. {why}"));
            }
        }

        if let Some(url) = opt(&self.pdm_url) {
            if let Err(m) = check_url(&url, true) {
                err("pdm_url", m);
            }
            if opt(&self.pdm_username).is_none() {
                err("pdm_username", "PDM needs a user name to log in.".into());
            }
        } else if opt(&self.pdm_username).is_some() || has(SecretKey::PdmPassword) {
            err(
                "pdm_url",
                "Give PDM's address, or clear its user and password.".into(),
            );
        }
        for d in &self.pool_domains {
            if !is_domain(d) {
                err("pool_domains", format!("\"{}\" is not a domain name.", d.trim()));
                break;
            }
        }
        for n in &self.nameservers {
            if !is_domain(n) {
                err("nameservers", format!("\"{}\" is not a host name.", n.trim()));
                break;
            }
        }
        if let Some(url) = opt(&self.gitops_url)
            && let Err(m) = check_url(&url, false)
        {
            err("gitops_url", m);
        }
        if let Some(b) = opt(&self.gitops_branch)
            && (!b.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                || b.starts_with('/')
                || b.contains(".."))
        {
            err(
                "gitops_branch",
                "A branch name is letters, digits and - _ . / (no \"..\").".into(),
            );
        }
        match opt(&self.registry_mirror_url) {
            Some(url) => {
                if let Err(m) = check_url(&url, false) {
                    err("registry_mirror_url", m);
                }
                if let Some(u) = opt(&self.registry_mirror_upstream)
                    && !is_registry_host(&u)
                {
                    err(
                        "registry_mirror_upstream",
                        format!("\"{u}\" is not a registry host such as docker.io."),
                    );
                }
                if has(SecretKey::RegistryMirrorPassword) && opt(&self.registry_mirror_username).is_none() {
                    err(
                        "registry_mirror_username",
                        "The mirror has a password: give its user name too.".into(),
                    );
                }
            }
            None => {
                if opt(&self.registry_mirror_username).is_some()
                    || opt(&self.registry_mirror_project).is_some()
                    || has(SecretKey::RegistryMirrorPassword)
                {
                    err(
                        "registry_mirror_url",
                        "Give the mirror's address, or clear its project, user and password.".into(),
                    );
                }
            }
        }
        if let Some(p) = opt(&self.registry_mirror_project)
            && let Err(m) = check_harbor_project(&p)
        {
            err("registry_mirror_project", m);
        }
        if let Some(r) = opt(&self.pull_registry)
            && !is_registry_host(&r)
        {
            err(
                "pull_registry",
                format!("\"{r}\" is not a registry host such as ghcr.io."),
            );
        }
        if has(SecretKey::PullPassword) && opt(&self.pull_username).is_none() {
            err(
                "pull_username",
                "The pull credential has a password: give its user name too.".into(),
            );
        }
        if opt(&self.pull_username).is_some() && !has(SecretKey::PullPassword) {
            err(
                "pull_password",
                "The pull credential needs its password (or token).".into(),
            );
        }
        if let Some(url) = opt(&self.hetzner_endpoint)
            && let Err(m) = check_url(&url, true)
        {
            err("hetzner_endpoint", m);
        }
        if let Some(p) = opt(&self.tofu_path) {
            let p = Path::new(&p);
            if !p.is_absolute() {
                err("tofu_path", "Give the full path to the tofu program.".into());
            } else if !p.is_file() {
                err("tofu_path", format!("There is no file at {}.", p.display()));
            } else if !is_executable(p) {
                err("tofu_path", format!("{} is not executable.", p.display()));
            }
        }
        if let Some(p) = opt(&self.provider_mirror) {
            let p = Path::new(&p);
            if !p.is_absolute() {
                err(
                    "provider_mirror",
                    "Give the full path to the mirror directory.".into(),
                );
            } else if !p.is_dir() {
                err(
                    "provider_mirror",
                    format!("There is no directory at {}.", p.display()),
                );
            }
        }
        for (name, phase) in PhaseTimeouts::PHASES {
            match self.timeouts.get(phase) {
                Some(0) => err(
                    &format!("timeouts.{name}"),
                    "A time limit must be at least one second.".into(),
                ),
                Some(n) if n > MAX_TIMEOUT_S => err(
                    &format!("timeouts.{name}"),
                    format!("{n} s is more than a day; give at most {MAX_TIMEOUT_S} s."),
                ),
                _ => {}
            }
        }
        errs
    }
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    true
}

/// An http(s) URL with a host. Plain http only to loopback (tests, tunnels):
/// a password must not cross a network in clear.
/// What is wrong with a URL that does not parse, in the operator's words
/// (never the parser's "relative URL without a base").
pub fn url_problem(text: &str, e: url::ParseError) -> String {
    use url::ParseError as P;
    match e {
        P::RelativeUrlWithoutBase
            if !text.contains("://") && text.contains('.') && !text.contains(char::is_whitespace) =>
        {
            format!("\"{text}\" needs https:// in front: https://{text}.")
        }
        P::EmptyHost => format!("\"{text}\" has no host."),
        P::InvalidPort => format!("\"{text}\" has a port that is not a number from 1 to 65535."),
        P::InvalidIpv4Address | P::InvalidIpv6Address => {
            format!("\"{text}\" has an IP address that is not valid.")
        }
        P::IdnaError | P::InvalidDomainCharacter => {
            format!("\"{text}\" has characters a host name cannot hold.")
        }
        _ => format!("\"{text}\" is not a URL like https://pdm.example.org."),
    }
}

pub fn check_url(text: &str, allow_loopback_http: bool) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| url_problem(text, e))?;
    let host = url.host_str().unwrap_or("");
    if host.is_empty() {
        return Err(format!("\"{text}\" has no host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Put no user or password in the URL; they have their own fields.".into());
    }
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_loopback_http && loopback => Ok(()),
        "http" => Err(format!("\"{text}\" must use https://.")),
        s => Err(format!("\"{text}\" is a {s}: URL; give an https:// one.")),
    }
}

fn is_domain(d: &str) -> bool {
    let d = d.trim().trim_end_matches('.');
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Harbor's rule for project names: 1–255 of lower-case letters, digits and
/// `-` `_` `.`, starting with a letter or digit.
pub fn check_harbor_project(p: &str) -> Result<(), String> {
    const RULE: &str = "A Harbor project name is lower-case letters, digits and - _ . (starting with a letter or digit), at most 255 characters.";
    if p.len() > 255 {
        return Err(format!("The project name is {} characters long. {RULE}", p.len()));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if !p.chars().all(allowed) || p.starts_with(['-', '_', '.']) {
        return Err(format!("\"{p}\" is not a Harbor project name. {RULE}"));
    }
    Ok(())
}

/// `ghcr.io`, `registry.example.org:5000`
fn is_registry_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (h, None),
    };
    (is_domain(host) || host == "localhost") && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
