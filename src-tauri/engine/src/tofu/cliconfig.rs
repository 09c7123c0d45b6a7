//! The OpenTofu CLI config for offline use: providers come only from the
//! filesystem mirror shipped with the app, so `init` never needs the registry.

use std::path::{Path, PathBuf};

use super::error::TofuError;
use super::hcl;

pub const FILE_NAME: &str = "tofu.rc";
pub const HCLOUD_SOURCE: &str = "registry.opentofu.org/hetznercloud/hcloud";

pub fn render(mirror_dir: &Path) -> String {
    // No `direct {}` block: with a mirror configured, nothing is fetched.
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [{}]\n  }}\n}}\n",
        hcl::string(&mirror_dir.display().to_string()),
        hcl::string(HCLOUD_SOURCE),
    )
}

/// Writes the config into the work dir and returns its path (for
/// `TF_CLI_CONFIG_FILE`). The cache must differ from the mirror: OpenTofu
/// refuses a cache that is also an installation source.
pub fn write(
    work_dir: &Path,
    mirror_dir: &Path,
    plugin_cache_dir: Option<&Path>,
) -> Result<PathBuf, TofuError> {
    if let Some(cache) = plugin_cache_dir {
        let same = match (cache.canonicalize(), mirror_dir.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => cache == mirror_dir,
        };
        if same {
            return Err(TofuError::CacheIsMirror(cache.to_path_buf()));
        }
    }
    let path = work_dir.join(FILE_NAME);
    crate::store::write_atomic(&path, render(mirror_dir).as_bytes()).map_err(|source| TofuError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Creates the plugin cache dir: OpenTofu ignores a missing one silently.
pub fn ensure_cache_dir(dir: &Path) -> Result<(), TofuError> {
    crate::store::dirs::create_private_dir_all(dir).map_err(|source| TofuError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_only_config_with_escaped_path() {
        let text = render(Path::new(r"C:\Program Files\Catalyst\providers"));
        assert!(
            text.contains(r#"path    = "C:\\Program Files\\Catalyst\\providers""#),
            "{text}"
        );
        assert!(text.contains(HCLOUD_SOURCE));
        assert!(!text.contains("direct"));
    }

    #[test]
    fn writes_file_and_refuses_cache_equal_to_mirror() {
        let d = tempfile::tempdir().unwrap();
        let mirror = d.path().join("mirror");
        std::fs::create_dir_all(&mirror).unwrap();
        let p = write(d.path(), &mirror, Some(&d.path().join("cache"))).unwrap();
        assert_eq!(std::fs::read_to_string(p).unwrap(), render(&mirror));
        assert!(matches!(
            write(d.path(), &mirror, Some(&mirror)),
            Err(TofuError::CacheIsMirror(_))
        ));
    }
}
