//! The OpenTofu module, embedded in the binary, and the deployment's own
//! work dir it is written into (keyed by deployment id, never by FQDN, so a
//! re-provision of the same domain never inherits stale state: F-8).

use std::path::{Path, PathBuf};

use super::error::TofuError;
use super::vars::ModuleInputs;
use crate::store::write_atomic;

pub const FILES: [(&str, &str); 4] = [
    ("versions.tf", include_str!("module/versions.tf")),
    ("variables.tf", include_str!("module/variables.tf")),
    ("main.tf", include_str!("module/main.tf")),
    ("outputs.tf", include_str!("module/outputs.tf")),
];

/// Auto-loaded by OpenTofu, so no `-var-file` is needed.
pub const TFVARS_FILE: &str = "terraform.tfvars.json";
pub const PLAN_FILE: &str = "tfplan";

pub fn file(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// `<data>/deployments/<id>/tofu`
pub fn work_dir(data_dir: &Path, deployment_id: &str) -> Result<PathBuf, TofuError> {
    let ok = !deployment_id.is_empty()
        && deployment_id.len() <= 63
        && deployment_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(TofuError::InvalidInput(format!(
            "the deployment id {deployment_id:?} cannot name a directory"
        )));
    }
    Ok(data_dir.join("deployments").join(deployment_id).join("tofu"))
}

/// Writes the module and the tfvars into `dir` (0700; files 0600). A `.tf`
/// file that is not ours (left by an older app version) is removed, since
/// OpenTofu would load it.
pub fn stage(dir: &Path, inputs: &ModuleInputs) -> Result<(), TofuError> {
    inputs.validate()?;
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TofuError::Write { path, source }
    };
    crate::store::dirs::create_private_dir_all(dir).map_err(werr(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(werr(dir))?;
    }
    for (name, content) in FILES {
        let p = dir.join(name);
        if std::fs::read(&p).ok().as_deref() != Some(content.as_bytes()) {
            write_atomic(&p, content.as_bytes()).map_err(werr(&p))?;
        }
    }
    let entries = std::fs::read_dir(dir).map_err(werr(dir))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = FILES.iter().any(|(n, _)| *n == name);
        if !ours && (name.ends_with(".tf") || name.ends_with(".tf.json")) {
            std::fs::remove_file(entry.path()).map_err(werr(&entry.path()))?;
        }
    }
    let tfvars = dir.join(TFVARS_FILE);
    let mut text = serde_json::to_string_pretty(&inputs.tfvars()).unwrap_or_default();
    text.push('\n');
    write_atomic(&tfvars, text.as_bytes()).map_err(werr(&tfvars))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tofu::vars::tests::solo;

    #[test]
    fn work_dir_is_keyed_by_id_and_refuses_paths() {
        let d = work_dir(Path::new("/data"), "3f0c2a9e-7d41").unwrap();
        assert_eq!(d, Path::new("/data/deployments/3f0c2a9e-7d41/tofu"));
        for bad in ["", "../x", "a/b", "acme.omani.works", "UPPER"] {
            assert!(work_dir(Path::new("/data"), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stage_writes_module_and_tfvars_and_drops_foreign_tf() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("tofu");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("old.tf"), "resource \"x\" \"y\" {}").unwrap();
        stage(&dir, &solo()).unwrap();
        for (n, c) in FILES {
            assert_eq!(std::fs::read_to_string(dir.join(n)).unwrap(), c);
        }
        assert!(!dir.join("old.tf").exists());
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(TFVARS_FILE)).unwrap()).unwrap();
        assert_eq!(v, solo().tfvars());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
            let mode = std::fs::metadata(dir.join(TFVARS_FILE))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
