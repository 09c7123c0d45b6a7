//! The provider mirror shipped with the app, found from the path of the
//! running executable alone (no framework call, so the engine can use it).
//!
//! `scripts/bundle.sh` ships the mirror as the bundle resource `providers/`
//! (and `tofu` as a sidecar, which `locate` finds next to the executable):
//! - a build in `target/<profile>/` gets a copy beside the executable:
//!   `target/debug/providers`;
//! - the .deb installs `/usr/bin/catalyst-provisioner` and the resources
//!   under `/usr/lib/<product name>/`, i.e. `<exe dir>/../lib/Catalyst
//!   Provisioner/providers` (the same rule as the shell's resource dir on
//!   Linux). `tests/bundle/test.sh` checks that path inside the built .deb.

use std::path::{Path, PathBuf};

/// `productName` of the app config: the .deb names its resource dir after it.
pub const PRODUCT_NAME: &str = "Catalyst Provisioner";
/// The resource dir holding the mirror (`tofu providers mirror` layout).
pub const MIRROR_DIR: &str = "providers";

/// Where a bundled mirror may be, in the order they are tried.
pub fn mirror_candidates(exe: &Path) -> Vec<PathBuf> {
    let Some(dir) = exe.parent() else {
        return Vec::new();
    };
    vec![
        dir.join(MIRROR_DIR),
        dir.join("..").join("lib").join(PRODUCT_NAME).join(MIRROR_DIR),
    ]
}

/// The bundled provider mirror for the executable at `exe`, if one exists
/// (a directory, canonicalised so `..` never reaches the tofu config).
pub fn provider_mirror(exe: &Path) -> Option<PathBuf> {
    mirror_candidates(exe)
        .into_iter()
        .find(|p| p.is_dir())
        .map(|p| p.canonicalize().unwrap_or(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_without_a_mirror() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("usr/bin");
        std::fs::create_dir_all(&bin).unwrap();
        assert_eq!(provider_mirror(&bin.join("catalyst-provisioner")), None);
        assert_eq!(provider_mirror(Path::new("/")), None);
        // A file named like the mirror is not a mirror.
        std::fs::write(bin.join(MIRROR_DIR), "").unwrap();
        assert_eq!(provider_mirror(&bin.join("catalyst-provisioner")), None);
    }

    #[test]
    fn deb_layout_usr_lib_product_name() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("usr/bin");
        let mirror = d.path().join("usr/lib/Catalyst Provisioner/providers");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&mirror).unwrap();
        assert_eq!(
            provider_mirror(&bin.join("catalyst-provisioner")),
            Some(mirror.canonicalize().unwrap())
        );
    }

    #[test]
    fn build_dir_copy_beside_the_executable_wins() {
        let d = tempfile::tempdir().unwrap();
        let debug = d.path().join("target/debug");
        std::fs::create_dir_all(debug.join(MIRROR_DIR)).unwrap();
        std::fs::create_dir_all(d.path().join("target/lib/Catalyst Provisioner/providers")).unwrap();
        assert_eq!(
            provider_mirror(&debug.join("catalyst-provisioner")),
            Some(debug.join(MIRROR_DIR).canonicalize().unwrap())
        );
    }

    #[test]
    fn product_name_matches_the_app_config() {
        let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tauri.conf.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&conf).unwrap()).unwrap();
        assert_eq!(v["productName"], PRODUCT_NAME, "{}", conf.display());
    }
}
