//! Export of the admin private key to a file the operator picks. The picker
//! is a trait so tests stand in for the native dialog (the rfd one lives in
//! the adapter).

use std::path::PathBuf;

use super::generate::{GeneratedKey, KeyError};
use crate::store::target::{self, Protected};
use crate::store::write_private_file;

/// Asks the operator where to save a file; `None` when they cancel.
pub trait SaveDialog {
    fn pick_save_path(&self, suggested_name: &str) -> Option<PathBuf>;

    /// The same with a title saying what is saved (the native dialog shows
    /// it; pickers without a title ignore it).
    fn pick_save_path_titled(&self, _title: &str, suggested_name: &str) -> Option<PathBuf> {
        self.pick_save_path(suggested_name)
    }

    /// Whether the picker itself asked before a file is replaced (the
    /// native dialog does); otherwise an existing file is refused.
    fn confirms_overwrite(&self) -> bool {
        false
    }
}

/// A file name like ssh-keygen's, e.g. `catalyst-omantel_openova_io_ed25519`.
pub fn suggested_key_file_name(fqdn: &str) -> String {
    let slug: String = fqdn
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let slug = slug.trim_matches('_');
    if slug.is_empty() {
        "catalyst_ed25519".into()
    } else {
        format!("catalyst-{slug}_ed25519")
    }
}

/// Writes the private key where the operator chose, readable by them only
/// (0600; written to a temp file of that mode and renamed, so it is never
/// briefly world-readable), never into the app's `protected` folders.
/// `Ok(None)` when the dialog was cancelled.
pub fn export_private_key(
    dialog: &dyn SaveDialog,
    suggested_name: &str,
    key: &GeneratedKey,
    protected: &Protected,
) -> Result<Option<PathBuf>, KeyError> {
    let Some(picked) = dialog.pick_save_path(suggested_name) else {
        return Ok(None);
    };
    let path =
        target::check(&picked, protected, dialog.confirms_overwrite()).map_err(|e| KeyError::Write {
            path: picked.display().to_string(),
            detail: e.to_string(),
        })?;
    let text = key.private_openssh()?;
    let write_err = |e: std::io::Error| KeyError::Write {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    write_private_file(&path, text.as_bytes()).map_err(write_err)?;
    tracing::info!(path = %path.display(), "admin private key exported");
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_admin_key;
    use std::cell::RefCell;

    struct Fixed(Option<PathBuf>, RefCell<Vec<String>>);
    impl SaveDialog for Fixed {
        fn pick_save_path(&self, suggested_name: &str) -> Option<PathBuf> {
            self.1.borrow_mut().push(suggested_name.to_owned());
            self.0.clone()
        }
        // As the native dialog, which asks before replacing.
        fn confirms_overwrite(&self) -> bool {
            true
        }
    }

    fn nothing_protected() -> Protected {
        Protected {
            dirs: Vec::new(),
            allowed: Vec::new(),
        }
    }

    #[test]
    fn writes_0600_and_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("id_catalyst");
        // A pre-existing world-readable file is replaced by a private one.
        std::fs::write(&target, "old").unwrap();
        let key = generate_admin_key("a.example").unwrap();
        let dialog = Fixed(Some(target.clone()), RefCell::new(Vec::new()));
        let name = suggested_key_file_name("a.example");
        let out = export_private_key(&dialog, &name, &key, &nothing_protected()).unwrap();
        assert_eq!(
            out.as_deref(),
            Some(std::fs::canonicalize(&target).unwrap().as_path())
        );
        assert_eq!(dialog.1.borrow().as_slice(), ["catalyst-a_example_ed25519"]);
        let text = std::fs::read_to_string(&target).unwrap();
        let again = GeneratedKey::from_private_openssh(&text).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{mode:o}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn cancel_writes_nothing_and_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = generate_admin_key("a.example").unwrap();
        let cancel = Fixed(None, RefCell::new(Vec::new()));
        assert_eq!(
            export_private_key(&cancel, "k", &key, &nothing_protected()).unwrap(),
            None
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let folder = Fixed(Some(dir.path().to_owned()), RefCell::new(Vec::new()));
        let e = export_private_key(&folder, "k", &key, &nothing_protected()).unwrap_err();
        assert_eq!(e.code(), "key_export_failed");
        assert!(e.to_string().contains("folder"), "{e}");
        assert_eq!(suggested_key_file_name(" "), "catalyst_ed25519");
    }
}
