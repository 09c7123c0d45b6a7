//! Finding `tofu`: the path set in Settings, else the sidecar shipped next to
//! the app, else PATH; then `tofu version -json` must say 1.8 or newer, and
//! which engine it is. OpenTofu is the product's engine; Terraform (same CLI,
//! but it ignores TF_ENCRYPTION, so its state is plaintext) is accepted only
//! when Settings name its path.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::error::TofuError;
use super::pins::MIN_TOFU;

/// Which IaC engine a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    #[serde(rename = "opentofu")]
    OpenTofu,
    Terraform,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::OpenTofu => "OpenTofu",
            EngineKind::Terraform => "Terraform",
        }
    }

    /// Whether it reads TF_ENCRYPTION (so state and plan are encrypted).
    pub fn encrypts_state(self) -> bool {
        self == EngineKind::OpenTofu
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TofuBinary {
    pub path: String,
    pub version: String,
    pub engine: EngineKind,
}

impl TofuBinary {
    /// "OpenTofu 1.10.5", "Terraform 1.11.4".
    pub fn describe(&self) -> String {
        format!("{} {}", self.engine.name(), self.version)
    }

    /// What an operator must know before a run with this engine, if anything.
    pub fn warning(&self) -> Option<String> {
        (!self.engine.encrypts_state()).then(|| {
            format!(
                "{} does not encrypt state: this deployment's terraform.tfstate will hold the servers' \
                 user_data (host key, k3s token) in plain text on this machine. OpenTofu, shipped with \
                 the app, encrypts it.",
                self.describe()
            )
        })
    }

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
    let bin = check(&path).await?;
    accept(bin, explicit.is_some_and(|p| !p.as_os_str().is_empty()))
}

/// Terraform only when the operator named it: a `tofu` found on PATH that
/// turns out to be Terraform (a symlink, a wrapper) would silently run
/// without state encryption.
pub fn accept(bin: TofuBinary, named_in_settings: bool) -> Result<TofuBinary, TofuError> {
    if bin.engine == EngineKind::Terraform && !named_in_settings {
        return Err(TofuError::TerraformNotNamed {
            path: bin.path.clone(),
            version: bin.version.clone(),
        });
    }
    Ok(bin)
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
    let (version, engine) = parse_version_json(&String::from_utf8_lossy(&out.stdout))?;
    let bin = TofuBinary {
        path: path.display().to_string(),
        version,
        engine,
    };
    if bin.major_minor() < MIN_TOFU {
        return Err(TofuError::TooOld {
            found: bin.version.clone(),
            hint: format!("Update {} or point Settings at a newer one.", bin.path),
        });
    }
    Ok(bin)
}

/// `{"terraform_version":"1.8.5","platform":…}`: OpenTofu keeps Terraform's
/// key name; only Terraform adds `terraform_outdated` (its update check).
pub fn parse_version_json(text: &str) -> Result<(String, EngineKind), TofuError> {
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
    let engine = if v.get("terraform_outdated").is_some() {
        EngineKind::Terraform
    } else {
        EngineKind::OpenTofu
    };
    Ok((version, engine))
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
            ("1.8.5".to_owned(), EngineKind::OpenTofu)
        );
        assert_eq!(
            parse_version_json(r#"{"terraform_version":"v1.12.0-beta1"}"#).unwrap(),
            ("1.12.0-beta1".to_owned(), EngineKind::OpenTofu)
        );
        // Terraform 1.11.4's own answer, as printed on this machine.
        assert_eq!(
            parse_version_json(
                "{\n  \"terraform_version\": \"1.11.4\",\n  \"platform\": \"linux_amd64\",\n  \"provider_selections\": {},\n  \"terraform_outdated\": false\n}"
            )
            .unwrap(),
            ("1.11.4".to_owned(), EngineKind::Terraform)
        );
        assert!(parse_version_json("OpenTofu v1.8.0").is_err());
        assert!(parse_version_json(r#"{"terraform_version":"banana"}"#).is_err());
    }

    #[test]
    fn gates_follow_version() {
        let b = |v: &str| TofuBinary {
            path: "x".into(),
            version: v.into(),
            engine: EngineKind::OpenTofu,
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
    fn terraform_only_when_named_and_always_with_a_warning() {
        let tf = TofuBinary {
            path: "/usr/local/bin/terraform".into(),
            version: "1.11.4".into(),
            engine: EngineKind::Terraform,
        };
        let e = accept(tf.clone(), false).unwrap_err();
        assert!(matches!(e, TofuError::TerraformNotNamed { .. }));
        assert!(e.to_string().contains("Terraform 1.11.4"), "{e}");
        let ok = accept(tf, true).unwrap();
        let w = ok.warning().unwrap();
        assert!(w.contains("does not encrypt state"), "{w}");
        let tofu = TofuBinary {
            engine: EngineKind::OpenTofu,
            ..ok
        };
        assert_eq!(accept(tofu.clone(), false).unwrap().warning(), None);
        assert_eq!(tofu.describe(), "OpenTofu 1.11.4");
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
