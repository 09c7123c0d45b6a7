//! On-disk state under the platform data dir: the wizard draft now, the
//! deployment records and event logs as the run arrives.

pub mod atomic;
pub mod deployments;
pub mod dirs;
pub mod event_log;
pub mod lock;
pub mod space;
pub mod target;

use std::io;
use std::path::{Path, PathBuf};

use crate::settings::Mode;
use crate::wizard::WizardAnswers;
pub use atomic::{open_regular, read_limited, read_limited_string, write_atomic, write_private_file};

/// The most the app reads of a file it keeps (a record, a draft, settings):
/// far above any real one, far below what would hurt.
pub const MAX_KEPT_FILE: u64 = 16 * 1024 * 1024;

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

    /// Saves the half-filled wizard. The answers type holds no secret field,
    /// but the admin key field is free text: whatever the keys parser does not
    /// accept as a public key (a pasted private key, a half-typed paste) is
    /// blanked before the draft is written, so the draft cannot leak one.
    /// `mode`: the mode its checks (token, key, name) were made in.
    pub fn save_draft(&self, answers: &WizardAnswers, mode: Mode) -> io::Result<()> {
        let safe = draft_safe(answers);
        let draft = SavedDraft {
            mode: Some(mode),
            answers: safe,
        };
        let bytes = serde_json::to_vec_pretty(&draft).map_err(io::Error::other)?;
        write_atomic(&self.draft_path(), &bytes)
    }

    /// Loads the draft and the mode it was checked in (`None`: a draft of an
    /// older version, which kept only the answers). A missing draft is
    /// `Ok(None)`; an unreadable one is an error the caller reports (the file
    /// is left in place, never deleted).
    pub fn load_draft(&self) -> io::Result<Option<(WizardAnswers, Option<Mode>)>> {
        let bytes = match read_limited(&self.draft_path(), MAX_KEPT_FILE) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let bad = |e: serde_json::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(bad)?;
        if v.get("answers").is_some() && v.get("organisation").is_none() {
            let d: SavedDraft = serde_json::from_value(v).map_err(bad)?;
            Ok(Some((d.answers, d.mode)))
        } else {
            Ok(Some((serde_json::from_value(v).map_err(bad)?, None)))
        }
    }

    pub fn clear_draft(&self) -> io::Result<()> {
        match std::fs::remove_file(self.draft_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// `draft.json`: the answers and the mode their checks were made in.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedDraft {
    #[serde(default)]
    mode: Option<Mode>,
    answers: WizardAnswers,
}

/// The answers as a draft may hold them: the admin key only when it parses as
/// a public key (its fingerprint goes with it otherwise).
pub fn draft_safe(answers: &WizardAnswers) -> WizardAnswers {
    let mut a = answers.clone();
    let key = &a.credentials.ssh_public_key;
    if !key.is_empty() && crate::keys::parse_public_key(key).is_err() {
        a.credentials.ssh_public_key.clear();
        a.credentials.ssh_fingerprint.clear();
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_never_holds_a_pasted_private_key_or_unparsed_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        for text in [
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
            "hello there",
        ] {
            let mut a = WizardAnswers::defaults();
            a.credentials.ssh_key_mode = crate::wizard::model::SshKeyMode::Paste;
            a.credentials.ssh_public_key = text.into();
            a.credentials.ssh_fingerprint = "SHA256:made-up".into();
            store.save_draft(&a, Mode::Demo).unwrap();
            let raw = std::fs::read_to_string(dir.path().join("draft.json")).unwrap();
            assert!(!raw.contains("PRIVATE KEY"), "{raw}");
            let (back, _) = store.load_draft().unwrap().unwrap();
            assert_eq!(back.credentials.ssh_public_key, "", "{text}");
            assert_eq!(back.credentials.ssh_fingerprint, "", "{text}");
        }
    }

    #[test]
    fn a_draft_keeps_a_parsed_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let key = crate::keys::generate_admin_key("draft.test").unwrap();
        let mut a = WizardAnswers::defaults();
        a.credentials.ssh_public_key = key.public_openssh().to_owned();
        a.credentials.ssh_fingerprint = key.fingerprint().to_owned();
        store.save_draft(&a, Mode::Demo).unwrap();
        assert_eq!(store.load_draft().unwrap(), Some((a, Some(Mode::Demo))));
    }

    #[test]
    fn draft_round_trip_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.load_draft().unwrap(), None);
        let mut a = WizardAnswers::defaults();
        a.organisation.name = "Omantel".into();
        store.save_draft(&a, Mode::Demo).unwrap();
        assert_eq!(store.load_draft().unwrap(), Some((a, Some(Mode::Demo))));
        store.clear_draft().unwrap();
        store.clear_draft().unwrap();
        assert_eq!(store.load_draft().unwrap(), None);
    }

    #[test]
    fn a_draft_of_an_older_version_is_read_without_a_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut a = WizardAnswers::defaults();
        a.organisation.name = "Omantel".into();
        std::fs::write(dir.path().join("draft.json"), serde_json::to_vec(&a).unwrap()).unwrap();
        assert_eq!(store.load_draft().unwrap(), Some((a, None)));
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
