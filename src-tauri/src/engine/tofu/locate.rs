//! Finding `tofu`: the path set in Settings, else the sidecar shipped next to
//! the app, else PATH; then `tofu version -json` must say 1.8 or newer.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::error::TofuError;
use super::pins::MIN_TOFU;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TofuBinary {
    pub path: String,
    pub version: String,
}

impl TofuBinary {
    pub fn path(&self) -> &Path {
        Path::new(&self.path)
    }

    /// `(major, minor)`; (0, 0) when unreadable.
    pub fn major_minor(&self) -> (u64, u64) {
        parse_semver(&self.version)
            .map(|(a, b, _)| (a, b))
            .unwrap_or((0, 0))
    }

    /// `init -json` exists from OpenTofu 1.7 on (opentofu/opentofu#1373,
    /// implemented in #1453, documented for 1.7.0 in #1460); older versions
    /// reject the flag. Every version the app accepts (>= 1.8) has it; the
    /// check stays for a binary whose version could not be read.
    pub fn init_speaks_json(&self) -> bool {
        self.major_minor() >= (1, 7)
    }
}

const EXE: &str = if cfg!(windows) { "tofu.exe" } else { "tofu" };

fn is_file(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false)
}

/// The search itself, with every input explicit (tests pass empty dirs).
pub fn find(
    explicit: Option<&Path>,
    exe_dir: Option<&Path>,
    path_var: Option<&OsStr>,
) -> Result<PathBuf, TofuError> {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        // A configured path that is wrong is reported, not silently replaced
        // by some other tofu.
        return if is_file(p) {
            Ok(p.to_path_buf())
        } else {
            Err(TofuError::ConfiguredPathMissing(p.to_path_buf()))
        };
    }
    if let Some(dir) = exe_dir {
        let p = dir.join(EXE);
        if is_file(&p) {
            return Ok(p);
        }
    }
    if let Some(path) = path_var {
        for dir in std::env::split_paths(path) {
            let p = dir.join(EXE);
            if is_file(&p) {
                return Ok(p);
            }
        }
    }
    Err(TofuError::NotFound)
}

/// Finds and checks the binary the app should use.
pub async fn locate(explicit: Option<&Path>) -> Result<TofuBinary, TofuError> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    let path_var = std::env::var_os("PATH");
    let path = find(explicit, exe_dir.as_deref(), path_var.as_deref())?;
    check(&path).await
}

/// Runs `tofu version -json` and refuses anything older than 1.8.
pub async fn check(path: &Path) -> Result<TofuBinary, TofuError> {
    let mut cmd = tokio::process::Command::new(path);
    cmd.arg("version")
        .arg("-json")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .map_err(|_| TofuError::VersionUnreadable("`tofu version` did not answer within 30 s".into()))?
        .map_err(|source| TofuError::Spawn {
            binary: path.to_path_buf(),
            source,
        })?;
    if !out.status.success() {
        return Err(TofuError::VersionUnreadable(format!(
            "`tofu version -json` exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let version = parse_version_json(&String::from_utf8_lossy(&out.stdout))?;
    let bin = TofuBinary {
        path: path.display().to_string(),
        version,
    };
    if bin.major_minor() < MIN_TOFU {
        return Err(TofuError::TooOld {
            found: bin.version.clone(),
            hint: format!("Update {} or point Settings at a newer one.", bin.path),
        });
    }
    Ok(bin)
}

/// `{"terraform_version":"1.8.5","platform":…}` (OpenTofu keeps the key name).
pub fn parse_version_json(text: &str) -> Result<String, TofuError> {
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| TofuError::VersionUnreadable(e.to_string()))?;
    let version = ["terraform_version", "tofu_version", "version"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()))
        .ok_or_else(|| TofuError::VersionUnreadable("no version field".into()))?;
    let version = version.trim_start_matches('v').to_owned();
    if parse_semver(&version).is_none() {
        return Err(TofuError::VersionUnreadable(format!(
            "{version:?} is not a version"
        )));
    }
    Ok(version)
}

fn parse_semver(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut it = core.split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let c = it.next().map_or(Some(0), |x| x.parse().ok())?;
    Some((a, b, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_json_variants() {
        assert_eq!(
            parse_version_json(
                r#"{"terraform_version":"1.8.5","platform":"linux_amd64","provider_selections":{}}"#
            )
            .unwrap(),
            "1.8.5"
        );
        assert_eq!(
            parse_version_json(r#"{"terraform_version":"v1.12.0-beta1"}"#).unwrap(),
            "1.12.0-beta1"
        );
        assert!(parse_version_json("OpenTofu v1.8.0").is_err());
        assert!(parse_version_json(r#"{"terraform_version":"banana"}"#).is_err());
    }

    #[test]
    fn gates_follow_version() {
        let b = |v: &str| TofuBinary {
            path: "x".into(),
            version: v.into(),
        };
        assert!(b("1.7.9").major_minor() < MIN_TOFU);
        assert!(b("1.8.0").major_minor() >= MIN_TOFU);
        assert!(b("1.10.0").major_minor() >= MIN_TOFU, "1.10 is newer than 1.8");
        assert!(!b("1.6.2").init_speaks_json());
        assert!(b("1.7.0").init_speaks_json());
        assert!(b("1.8.0").init_speaks_json());
        assert!(b("1.11.3").init_speaks_json());
        assert!(b("1.12.0").init_speaks_json());
    }

    #[test]
    fn search_order_and_misses() {
        let d = tempfile::tempdir().unwrap();
        let side = d.path().join("side");
        let on_path = d.path().join("path");
        let empty = d.path().join("empty");
        for dir in [&side, &on_path, &empty] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(side.join(EXE), "").unwrap();
        std::fs::write(on_path.join(EXE), "").unwrap();
        let path_var = std::env::join_paths([&empty, &on_path]).unwrap();
        assert_eq!(find(None, Some(&side), Some(&path_var)).unwrap(), side.join(EXE));
        assert_eq!(
            find(None, Some(&empty), Some(&path_var)).unwrap(),
            on_path.join(EXE)
        );
        let explicit = on_path.join(EXE);
        assert_eq!(find(Some(&explicit), Some(&side), None).unwrap(), explicit);
        assert!(matches!(
            find(Some(&empty.join("nope")), Some(&side), None),
            Err(TofuError::ConfiguredPathMissing(_))
        ));
        let e = find(None, Some(&empty), Some(empty.as_os_str())).unwrap_err();
        assert!(matches!(e, TofuError::NotFound));
        assert!(e.to_string().contains("opentofu.org/docs/intro/install"), "{e}");
    }
}
