//! Where the operator asks the app to write (a kubeconfig, an event log, a
//! diagnostics zip, a private key): never into the app's own folders (the
//! record, the state, the settings would be replaced), never through a link,
//! never over a folder, pipe or device, and never over a file unless the
//! operator said so (the native dialog asks; the CLI takes --force).

use std::io;
use std::path::{Component, Path, PathBuf};

/// The app's own folders, and the one of them exports may go to.
#[derive(Debug, Clone)]
pub struct Protected {
    pub dirs: Vec<PathBuf>,
    /// Inside a protected folder but meant for the operator's files.
    pub allowed: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TargetError {
    #[error(
        "{path} is inside the app's own folder {dir}; writing there could replace what the app keeps. Choose a place outside it."
    )]
    Protected { path: String, dir: String },
    #[error("{path} already exists. Replace it (--force on the command line), or choose another name.")]
    Exists { path: String },
    #[error(
        "{path} is a link; the app does not write through links. Choose the file it points to, or another name."
    )]
    Link { path: String },
    #[error("{path} is a folder, a pipe or a device, not a file.")]
    NotAFile { path: String },
    #[error("the folder of {path} does not exist or cannot be read ({detail}).")]
    NoFolder { path: String, detail: String },
}

/// Lexically tidied (`a/./b/../c` → `a/c`), for a path whose parent may not
/// exist yet.
fn tidy(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The folder as the kernel sees it (links resolved) where it exists.
fn real(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| tidy(dir))
}

/// Checks `path` (absolute) as a place to write, and returns it with its
/// folder's links resolved: the file written is the one checked.
pub fn check(path: &Path, protected: &Protected, overwrite: bool) -> Result<PathBuf, TargetError> {
    let shown = path.display().to_string();
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(TargetError::NotAFile { path: shown });
    };
    let parent = std::fs::canonicalize(parent).map_err(|e| TargetError::NoFolder {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    let target = parent.join(name);
    let inside_allowed = protected.allowed.iter().any(|a| target.starts_with(real(a)));
    if !inside_allowed && let Some(dir) = protected.dirs.iter().find(|d| target.starts_with(real(d))) {
        return Err(TargetError::Protected {
            path: shown,
            dir: dir.display().to_string(),
        });
    }
    match std::fs::symlink_metadata(&target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(target),
        Err(e) => Err(TargetError::NoFolder {
            path: shown,
            detail: e.to_string(),
        }),
        Ok(m) if m.file_type().is_symlink() => Err(TargetError::Link { path: shown }),
        Ok(m) if !m.is_file() => Err(TargetError::NotAFile { path: shown }),
        Ok(_) if !overwrite => Err(TargetError::Exists { path: shown }),
        Ok(_) => Ok(target),
    }
}

/// `name` in `dir`, or `stem-2.ext`, `stem-3.ext`… when taken: the exports
/// folder never replaces an earlier export.
pub fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if std::fs::symlink_metadata(&first).is_err() {
        return first;
    }
    // "a.kubeconfig.yaml" → "a-2.kubeconfig.yaml": the number before the first dot.
    let (stem, ext) = match name.find('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    (2..10_000)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Protected) {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        std::fs::create_dir_all(data.join("deployments/d-1")).unwrap();
        std::fs::create_dir_all(data.join("exports")).unwrap();
        std::fs::create_dir_all(d.path().join("config")).unwrap();
        std::fs::create_dir_all(d.path().join("out")).unwrap();
        let p = Protected {
            dirs: vec![data.clone(), d.path().join("config")],
            allowed: vec![data.join("exports")],
        };
        (d, p)
    }

    #[test]
    fn the_apps_own_folders_are_refused_however_the_path_is_spelt() {
        let (d, p) = setup();
        let rec = d.path().join("data/deployments/d-1/record.json");
        std::fs::write(&rec, "{}").unwrap();
        for path in [
            rec.clone(),
            d.path().join("out/../data/deployments/d-1/record.json"),
            d.path().join("config/settings.json"),
        ] {
            let e = check(&path, &p, true).unwrap_err();
            assert!(matches!(e, TargetError::Protected { .. }), "{path:?}: {e}");
        }
        // Through a link to the data folder too.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("data"), d.path().join("out/sneaky")).unwrap();
            let e = check(&d.path().join("out/sneaky/deployments/d-1/record.json"), &p, true).unwrap_err();
            assert!(matches!(e, TargetError::Protected { .. }), "{e}");
        }
        assert!(check(&d.path().join("data/exports/k.yaml"), &p, false).is_ok());
        assert_eq!(std::fs::read_to_string(&rec).unwrap(), "{}");
    }

    #[test]
    fn existing_files_need_a_yes_and_links_folders_and_pipes_are_refused() {
        let (d, p) = setup();
        let f = d.path().join("out/k.yaml");
        assert_eq!(
            check(&f, &p, false).unwrap(),
            real(&d.path().join("out")).join("k.yaml")
        );
        std::fs::write(&f, "old").unwrap();
        assert!(matches!(check(&f, &p, false), Err(TargetError::Exists { .. })));
        assert!(check(&f, &p, true).is_ok());
        assert!(matches!(
            check(&d.path().join("out"), &p, true),
            Err(TargetError::NotAFile { .. })
        ));
        assert!(matches!(
            check(&d.path().join("nowhere/k.yaml"), &p, true),
            Err(TargetError::NoFolder { .. })
        ));
        #[cfg(unix)]
        {
            let l = d.path().join("out/link");
            std::os::unix::fs::symlink(&f, &l).unwrap();
            assert!(matches!(check(&l, &p, true), Err(TargetError::Link { .. })));
            assert!(matches!(
                check(Path::new("/dev/null"), &p, true),
                Err(TargetError::NotAFile { .. })
            ));
        }
    }

    #[test]
    fn the_exports_folder_draws_a_free_name() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            free_name(d.path(), "a.kubeconfig.yaml"),
            d.path().join("a.kubeconfig.yaml")
        );
        std::fs::write(d.path().join("a.kubeconfig.yaml"), "").unwrap();
        assert_eq!(
            free_name(d.path(), "a.kubeconfig.yaml"),
            d.path().join("a-2.kubeconfig.yaml")
        );
        std::fs::write(d.path().join("a-2.kubeconfig.yaml"), "").unwrap();
        assert_eq!(
            free_name(d.path(), "a.kubeconfig.yaml"),
            d.path().join("a-3.kubeconfig.yaml")
        );
    }
}
