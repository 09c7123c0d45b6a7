//! Free disk space for a run: how much the data dir's file system has left,
//! the floor a phase needs before it starts, and a small reserve file made
//! at the start of a run and given back when a write fails, so the failure
//! itself (a last event, the record saying "failed") can still be written
//! on a full disk.

use std::io;
use std::path::{Path, PathBuf};

use crate::events::Phase;

const MIB: u64 = 1024 * 1024;

/// What every phase needs free to start: its events, the record, the app log.
pub const BASE_FLOOR: u64 = 32 * MIB;

/// What a phase needs on top: init unpacks the provider (about 60 MB for
/// hcloud) into the work dir; apply writes the state and its backup.
fn margin(phase: Phase) -> u64 {
    match phase {
        Phase::TofuInit => 128 * MIB,
        Phase::TofuApply => 16 * MIB,
        _ => 0,
    }
}

/// The free space `phase` needs, `base` being the floor every phase needs;
/// a demo run has no provider to unpack and no state to write.
pub fn floor(phase: Phase, base: u64, live: bool) -> u64 {
    base + if live { margin(phase) } else { 0 }
}

/// Bytes available to this (unprivileged) process on `dir`'s file system.
pub fn available(dir: &Path) -> io::Result<u64> {
    fs4::available_space(dir)
}

/// "1.5 MB", "340 MB", "2.1 GB".
pub fn human(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb >= 1000.0 {
        format!("{:.1} GB", mb / 1000.0)
    } else if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

/// Why `phase` cannot start on `dir`, if it cannot.
pub fn shortfall(dir: &Path, phase: Phase, base: u64, live: bool) -> Option<String> {
    let need = floor(phase, base, live);
    match available(dir) {
        Ok(free) if free < need => Some(format!(
            "Only {} free on the disk of {} (this step needs at least {}).",
            human(free),
            dir.display(),
            human(need)
        )),
        // A file system that cannot say is not a reason to stop.
        _ => None,
    }
}

/// 256 KiB of written zeros (not a sparse file: every page counts on tmpfs,
/// ext4 and btrfs alike).
pub const RESERVE_BYTES: usize = 256 * 1024;

/// The reserve of one run; released (deleted) on the first failed write.
pub struct Reserve {
    path: Option<PathBuf>,
}

impl Reserve {
    /// Best effort: a disk too full for the reserve has its run stopped by
    /// the floor check before the first phase anyway.
    pub fn make(dir: &Path) -> Reserve {
        let path = dir.join(".space-reserve");
        match super::atomic::write_atomic(&path, &vec![0u8; RESERVE_BYTES]) {
            Ok(()) => Reserve { path: Some(path) },
            Err(e) => {
                tracing::warn!(error = %e, "no space reserve for this run");
                Reserve { path: None }
            }
        }
    }

    /// Gives the space back; true when there was some to give.
    pub fn release(&mut self) -> bool {
        match self.path.take() {
            Some(p) => std::fs::remove_file(p).is_ok(),
            None => false,
        }
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_and_words() {
        assert_eq!(floor(Phase::Preflight, BASE_FLOOR, true), 32 * MIB);
        assert_eq!(floor(Phase::TofuInit, BASE_FLOOR, true), 160 * MIB);
        assert_eq!(floor(Phase::TofuInit, BASE_FLOOR, false), 32 * MIB);
        assert_eq!(floor(Phase::TofuApply, 0, true), 16 * MIB);
        assert_eq!(human(1_500_000), "1.5 MB");
        assert_eq!(human(340_000_000), "340 MB");
        assert_eq!(human(2_100_000_000), "2.1 GB");
        let d = tempfile::tempdir().unwrap();
        assert!(shortfall(d.path(), Phase::Preflight, 0, true).is_none());
        let s = shortfall(d.path(), Phase::Preflight, u64::MAX / 4, true).unwrap();
        assert!(
            s.starts_with("Only ") && s.contains(&d.path().display().to_string()),
            "{s}"
        );
    }

    #[test]
    fn the_reserve_is_made_and_given_back_once() {
        let d = tempfile::tempdir().unwrap();
        let mut r = Reserve::make(d.path());
        let p = d.path().join(".space-reserve");
        assert_eq!(std::fs::metadata(&p).unwrap().len(), RESERVE_BYTES as u64);
        assert!(r.release());
        assert!(!p.exists());
        assert!(!r.release());
    }
}
