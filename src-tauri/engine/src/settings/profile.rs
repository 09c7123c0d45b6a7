//! The franchise profile: one versioned JSON file that fills the settings
//! (and their secrets) in one step. Its format is in docs/franchise-profile.md.
//! Fields it leaves out keep their current value; unknown fields are refused,
//! so a typo is an error, not a setting silently ignored.

use crate::error::ErrorCode;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::values::{SecretKey, SettingsValues};

pub const FORMAT: &str = "catalyst-franchise-profile";
/// The versions this app reads. Version 2 added `registry_mirror_project`:
/// an app reading only version 1 refuses that key, so a profile carrying it
/// says version 2 and such an app names the version instead.
pub const VERSIONS: [u32; 2] = [1, 2];
/// Settings keys a profile may carry only from the given version on.
const SINCE: [(&str, u32); 1] = [("registry_mirror_project", 2)];
/// A profile is a few kilobytes; anything this large is the wrong file.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// A native "open file" dialog (the window installs one; headless adapters have none).
pub trait OpenDialog {
    fn pick_open_path(&self, title: &str, extensions: &[&str]) -> Option<PathBuf>;
}

/// A profile as read: the settings it names, and its secrets (never logged,
/// never shown; they go to the keyring).
pub struct Profile {
    pub name: String,
    pub version: u32,
    pub settings: serde_json::Map<String, Value>,
    pub secrets: BTreeMap<SecretKey, String>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u32,
    #[serde(default)]
    name: String,
    #[serde(default)]
    settings: serde_json::Map<String, Value>,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

/// Why a profile cannot be used, in the operator's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("{path} cannot be read: {detail}")]
    Unreadable { path: String, detail: String },
    #[error("{path} is {bytes} bytes; a franchise profile is a small JSON file")]
    TooLarge { path: String, bytes: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "This profile is version {found}; this app reads versions 1 and 2. Ask for a profile made for these versions, or update the app."
    )]
    UnknownVersion { found: String },
}

impl ProfileError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProfileError::Unreadable { .. } => ErrorCode::ProfileUnreadable,
            ProfileError::TooLarge { .. } => ErrorCode::ProfileTooLarge,
            ProfileError::Invalid(_) => ErrorCode::ProfileInvalid,
            ProfileError::UnknownVersion { .. } => ErrorCode::ProfileUnknownVersion,
        }
    }
}

impl From<ProfileError> for crate::error::ApiError {
    fn from(e: ProfileError) -> Self {
        crate::error::ApiError {
            code: e.code(),
            message: e.to_string(),
            field: Some("profile_path".into()),
        }
    }
}

pub fn read(path: &Path) -> Result<Profile, ProfileError> {
    let shown = path.display().to_string();
    let unreadable = |e: std::io::Error| ProfileError::Unreadable {
        path: shown.clone(),
        detail: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(ProfileError::Unreadable {
            path: shown,
            detail: "it is not a file".into(),
        });
    }
    if meta.len() > MAX_BYTES {
        return Err(ProfileError::TooLarge {
            path: shown,
            bytes: meta.len(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Profile, ProfileError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ProfileError::Invalid(format!("The profile is not valid JSON: {e}.")))?;
    let Some(obj) = v.as_object() else {
        return Err(ProfileError::Invalid("The profile must be a JSON object.".into()));
    };
    if obj.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ProfileError::Invalid(format!(
            "This is not a franchise profile: it needs \"format\": \"{FORMAT}\"."
        )));
    }
    // The version is checked before the rest, so a newer file gets this
    // message rather than one about a field this app does not know.
    let version = match obj.get("version") {
        Some(found) => found
            .as_u64()
            .and_then(|v| VERSIONS.into_iter().find(|k| u64::from(*k) == v))
            .ok_or_else(|| ProfileError::UnknownVersion {
                found: found.to_string(),
            })?,
        None => {
            return Err(ProfileError::Invalid(
                "The profile has no \"version\" (this app reads versions 1 and 2).".into(),
            ));
        }
    };
    let file: FileV1 = serde_json::from_value(v)
        .map_err(|e| ProfileError::Invalid(format!("The profile is not valid: {e}.")))?;
    for (key, since) in SINCE {
        if version < since && file.settings.contains_key(key) {
            return Err(ProfileError::Invalid(format!(
                "The setting {key} needs a version {since} profile (\"version\": {since}); this one is version {version}."
            )));
        }
    }
    let mut secrets = BTreeMap::new();
    for (k, value) in file.secrets {
        let key = SecretKey::parse(&k).ok_or_else(|| {
            ProfileError::Invalid(format!(
                "The profile names an unknown secret \"{k}\" (known: pdm_password, registry_mirror_password, pull_password)."
            ))
        })?;
        if value.is_empty() {
            return Err(ProfileError::Invalid(format!(
                "The secret {k} in the profile is empty."
            )));
        }
        crate::secrets::register_secret(&value);
        secrets.insert(key, value);
    }
    Ok(Profile {
        name: file.name.trim().to_owned(),
        version,
        settings: file.settings,
        secrets,
    })
}

impl Profile {
    /// `current` with the profile's settings laid over it.
    pub fn merged(&self, current: &SettingsValues) -> Result<SettingsValues, ProfileError> {
        let mut v = serde_json::to_value(current).map_err(|e| ProfileError::Invalid(e.to_string()))?;
        let Some(obj) = v.as_object_mut() else {
            return Err(ProfileError::Invalid("settings are not an object".into()));
        };
        for (k, value) in &self.settings {
            if k == "timeouts"
                && let (Some(Value::Object(into)), Value::Object(from)) = (obj.get_mut("timeouts"), value)
            {
                for (t, n) in from {
                    into.insert(t.clone(), n.clone());
                }
                continue;
            }
            obj.insert(k.clone(), value.clone());
        }
        serde_json::from_value(v)
            .map_err(|e| ProfileError::Invalid(format!("The profile's settings are not valid: {e}.")))
    }
}

/// One setting a profile would change, as the preview lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingChange {
    pub key: String,
    /// Empty: the default.
    pub from: String,
    pub to: String,
}

/// The settings as `key → shown value`, timeouts flattened to `timeouts.<phase>`.
pub fn flatten(v: &SettingsValues) -> BTreeMap<String, String> {
    fn shown(v: &Value) -> String {
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(a) => a.iter().map(shown).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(Value::Object(obj)) = serde_json::to_value(v) {
        for (k, value) in obj {
            match value {
                Value::Object(inner) => {
                    for (i, n) in inner {
                        out.insert(format!("{k}.{i}"), shown(&n));
                    }
                }
                other => {
                    out.insert(k, shown(&other));
                }
            }
        }
    }
    out
}

pub fn changes(from: &SettingsValues, to: &SettingsValues) -> Vec<SettingChange> {
    let (a, b) = (flatten(from), flatten(to));
    b.into_iter()
        .filter_map(|(key, to)| {
            let from = a.get(&key).cloned().unwrap_or_default();
            (from != to).then_some(SettingChange { key, from, to })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../../examples/franchise-profile.json");

    #[test]
    fn the_documented_example_parses() {
        let p = parse(EXAMPLE).unwrap();
        assert!(!p.name.is_empty());
        assert_eq!(p.secrets.len(), 3);
        let v = p.merged(&SettingsValues::default()).unwrap();
        assert_eq!(v.mode, Some(super::super::Mode::Live));
        assert!(v.pdm_url.starts_with("https://"));
        assert!(v.timeouts.tofu_apply.is_some());
        assert_eq!(v.registry_mirror_project, "proxy-dockerhub");
        // Debug output names the secrets, never their values.
        let dbg = format!("{p:?}");
        for s in p.secrets.values() {
            assert!(!dbg.contains(s.as_str()));
        }
    }

    #[test]
    fn unknown_versions_and_other_files_are_clear_errors() {
        let e = parse(r#"{"format":"catalyst-franchise-profile","version":3,"settings":{"new_thing":1}}"#)
            .unwrap_err();
        assert_eq!(e.code(), "profile_unknown_version");
        assert!(e.to_string().contains("version 3"), "{e}");
        assert_eq!(parse(r#"{"version":1}"#).unwrap_err().code(), "profile_invalid");
        assert_eq!(parse("[]").unwrap_err().code(), "profile_invalid");
        assert_eq!(parse("{").unwrap_err().code(), "profile_invalid");
        let e = parse(r#"{"format":"catalyst-franchise-profile","version":"1"}"#).unwrap_err();
        assert_eq!(e.code(), "profile_unknown_version");
        let e =
            parse(r#"{"format":"catalyst-franchise-profile","version":1,"secrets":{"root_password":"x"}}"#)
                .unwrap_err();
        assert!(e.to_string().contains("root_password"), "{e}");
        let e = parse(r#"{"format":"catalyst-franchise-profile","version":1,"extra":true}"#).unwrap_err();
        assert_eq!(e.code(), "profile_invalid");
    }

    #[test]
    fn unknown_settings_are_refused_and_missing_ones_kept() {
        let p = parse(r#"{"format":"catalyst-franchise-profile","version":1,"settings":{"pdm_ulr":"x"}}"#)
            .unwrap();
        let e = p.merged(&SettingsValues::default()).unwrap_err();
        assert!(e.to_string().contains("pdm_ulr"), "{e}");

        let current = SettingsValues {
            pdm_username: "kept".into(),
            timeouts: super::super::PhaseTimeouts {
                console: Some(60),
                ..Default::default()
            },
            ..Default::default()
        };
        let p = parse(
            r#"{"format":"catalyst-franchise-profile","version":1,"settings":{"gitops_branch":"stable","timeouts":{"cloud_init":900}}}"#,
        )
        .unwrap();
        let v = p.merged(&current).unwrap();
        assert_eq!(v.pdm_username, "kept");
        assert_eq!(v.gitops_branch, "stable");
        assert_eq!(v.timeouts.cloud_init, Some(900));
        assert_eq!(v.timeouts.console, Some(60));
        let c = changes(&current, &v);
        let keys: Vec<_> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["gitops_branch", "timeouts.cloud_init"]);
        assert_eq!(c[1].from, "");
        assert_eq!(c[1].to, "900");
    }

    #[test]
    fn a_profile_carries_the_mirror_project_from_version_2_on() {
        let text = |version: u32| {
            format!(
                r#"{{"format":"catalyst-franchise-profile","version":{version},"settings":{{
                    "registry_mirror_url":"https://harbor.example.org",
                    "registry_mirror_project":"proxy-dockerhub"}}}}"#
            )
        };
        let p = parse(&text(2)).unwrap();
        assert_eq!(p.version, 2);
        let v = p.merged(&SettingsValues::default()).unwrap();
        assert_eq!(v.registry_mirror_project, "proxy-dockerhub");
        assert_eq!(v.validate(&[]), vec![]);
        let c = changes(&SettingsValues::default(), &v);
        assert!(
            c.iter().any(|c| c.key == "registry_mirror_project"
                && c.from.is_empty()
                && c.to == "proxy-dockerhub"),
            "{c:?}"
        );
        // Through the settings file and back: the project survives.
        let dir = tempfile::tempdir().unwrap();
        v.apply_to(&super::super::Settings::default())
            .save(dir.path())
            .unwrap();
        let back = SettingsValues::from_settings(&super::super::Settings::load(dir.path()).unwrap());
        assert_eq!(back, v);
        // A version 1 file cannot carry it (an older app would refuse the key).
        let e = parse(&text(1)).unwrap_err();
        assert_eq!(e.code(), "profile_invalid");
        assert!(e.to_string().contains("version 2"), "{e}");
        // Version 1 files without it still read.
        let p =
            parse(r#"{"format":"catalyst-franchise-profile","version":1,"settings":{"gitops_branch":"x"}}"#)
                .unwrap();
        assert_eq!(p.version, 1);
        // A bad project name is reported on its field in the preview.
        let p = parse(&text(2).replace("proxy-dockerhub", "Proxy DockerHub")).unwrap();
        let errs = p.merged(&SettingsValues::default()).unwrap().validate(&[]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "registry_mirror_project");
    }

    #[test]
    fn a_missing_or_huge_file_is_reported() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            read(&d.path().join("none.json")).unwrap_err().code(),
            "profile_unreadable"
        );
        assert_eq!(read(d.path()).unwrap_err().code(), "profile_unreadable");
        let big = d.path().join("big.json");
        std::fs::write(&big, vec![b' '; (MAX_BYTES + 1) as usize]).unwrap();
        assert_eq!(read(&big).unwrap_err().code(), "profile_too_large");
    }
}
