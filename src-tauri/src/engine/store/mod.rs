//! On-disk state under the platform data dir: the wizard draft now, the
//! deployment records and event logs as the run arrives.

pub mod atomic;
pub mod deployments;

use std::io;
use std::path::{Path, PathBuf};

use crate::engine::wizard::WizardAnswers;
pub use atomic::write_atomic;

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn draft_path(&self) -> PathBuf {
        self.root.join("draft.json")
    }

    /// Saves the half-filled wizard. The answers type holds no secret, so the
    /// draft cannot leak one.
    pub fn save_draft(&self, answers: &WizardAnswers) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(answers).map_err(io::Error::other)?;
        write_atomic(&self.draft_path(), &bytes)
    }

    /// Loads the draft. A missing draft is `Ok(None)`; an unreadable one is an
    /// error the caller reports (the file is left in place, never deleted).
    pub fn load_draft(&self) -> io::Result<Option<WizardAnswers>> {
        match std::fs::read(self.draft_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn clear_draft(&self) -> io::Result<()> {
        match std::fs::remove_file(self.draft_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_round_trip_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.load_draft().unwrap(), None);
        let mut a = WizardAnswers::defaults();
        a.organisation.name = "Omantel".into();
        store.save_draft(&a).unwrap();
        assert_eq!(store.load_draft().unwrap(), Some(a));
        store.clear_draft().unwrap();
        store.clear_draft().unwrap();
        assert_eq!(store.load_draft().unwrap(), None);
    }

    #[test]
    fn corrupt_draft_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(dir.path().join("draft.json"), b"{not json").unwrap();
        let err = store.load_draft().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(dir.path().join("draft.json").exists());
    }
}
