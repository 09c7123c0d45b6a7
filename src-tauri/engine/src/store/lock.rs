//! One process per deployment: an OS advisory lock (flock on unix, through
//! std's `File::try_lock`) on `deployments/<id>/run.lock`, held by a run, a
//! resume, a wipe or a forget for its whole life. The kernel lets go of it
//! when the process dies, so whatever a dead process left in the file never
//! blocks anyone; the text in it only names a live holder in the refusal.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{ApiError, ErrorCode};

/// Who holds a deployment, as the holder wrote it into the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub doing: String,
    pub since: String,
}

impl Holder {
    pub fn describe(&self) -> String {
        let this = if self.pid == std::process::id() {
            " (this process)"
        } else {
            ""
        };
        format!("pid {}{this}, {} since {}", self.pid, self.doing, self.since)
    }
}

#[derive(Debug)]
pub enum LockError {
    /// Another open lock holds it; its holder when it has written itself in yet.
    Held(Option<Holder>),
    Io(io::Error),
}

impl LockError {
    /// The refusal an adapter shows: who holds it and what to do instead.
    pub fn refusal(&self, code: ErrorCode, instead: &str) -> ApiError {
        match self {
            LockError::Held(h) => ApiError::new(
                code,
                format!(
                    "Another app window or CLI ({}) holds this deployment; {instead}.",
                    h.as_ref()
                        .map(Holder::describe)
                        .unwrap_or_else(|| "it is just starting".into())
                ),
            ),
            LockError::Io(e) => ApiError::new(
                ErrorCode::Internal,
                format!("The deployment's lock file cannot be used: {e}"),
            ),
        }
    }
}

/// The held lock; dropping it (or the process dying) releases it. The file
/// stays: removing it would let a later process lock a fresh file while an
/// earlier one still holds the unlinked one.
#[derive(Debug)]
pub struct DeploymentLock {
    file: File,
    path: PathBuf,
}

impl DeploymentLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DeploymentLock {
    fn drop(&mut self) {
        // Cleared while still held, so no later reader sees us as the holder.
        let _ = self.file.set_len(0);
    }
}

/// Takes the lock at `path` without waiting, then writes this process in as
/// its holder. The deployment's directory must exist.
pub fn acquire(path: &Path, doing: &str) -> Result<DeploymentLock, LockError> {
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(LockError::Held(read_holder_soon(path))),
            Err(fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        // A forget may have removed the file between our open and our lock:
        // a lock on an unlinked file guards nothing, so open the path again.
        if !same_file(&file, path) {
            continue;
        }
        let text = format!(
            "{}\n{doing}\n{}\n",
            std::process::id(),
            super::deployments::now_rfc3339()
        );
        file.set_len(0).map_err(LockError::Io)?;
        (&file).write_all(text.as_bytes()).map_err(LockError::Io)?;
        return Ok(DeploymentLock {
            file,
            path: path.to_owned(),
        });
    }
}

/// Whether another open lock holds `path` now, and who (when written in).
/// It takes the lock for a moment when free, so it is for the start-up
/// check, not for polling beside a run.
pub fn probe(path: &Path) -> Option<Option<Holder>> {
    let file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Err(fs::TryLockError::WouldBlock) => Some(read_holder(path)),
        _ => None,
    }
}

/// The holder writes itself in just after it takes the lock: a refusal in
/// between waits for that (200 ms at most) rather than name nobody.
fn read_holder_soon(path: &Path) -> Option<Holder> {
    for _ in 0..20 {
        if let Some(h) = read_holder(path) {
            return Some(h);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

fn read_holder(path: &Path) -> Option<Holder> {
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    Some(Holder {
        pid,
        doing: lines.next()?.to_owned(),
        since: lines.next()?.to_owned(),
    })
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_handle_is_refused_with_the_holder_named_and_drop_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        let first = acquire(&path, "resuming the run").unwrap();
        // flock locks belong to the open file, so a second open in this very
        // process conflicts as another process's would.
        let Err(LockError::Held(Some(h))) = acquire(&path, "wiping") else {
            panic!("the second lock was not refused with its holder");
        };
        assert_eq!(h.pid, std::process::id());
        assert_eq!(h.doing, "resuming the run");
        assert!(h.since.starts_with("20"), "{}", h.since);
        let msg = LockError::Held(Some(h))
            .refusal(ErrorCode::HeldElsewhere, "resume it from there")
            .message;
        assert!(
            msg.contains(&format!("pid {}", std::process::id())) && msg.contains("resuming the run"),
            "{msg}"
        );
        assert!(probe(&path).is_some());
        drop(first);
        assert_eq!(probe(&path), None);
        let again = acquire(&path, "wiping").unwrap();
        assert_eq!(read_holder(again.path()).unwrap().doing, "wiping");
    }

    #[test]
    fn what_a_dead_holder_left_in_the_file_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        // A live pid (ours) and a description, but no lock behind them.
        fs::write(
            &path,
            format!("{}\nresuming the run\n2026-01-01T00:00:00Z\n", std::process::id()),
        )
        .unwrap();
        assert_eq!(probe(&path), None);
        let lock = acquire(&path, "wiping").unwrap();
        assert_eq!(read_holder(lock.path()).unwrap().doing, "wiping");
    }

    #[test]
    fn a_lock_file_removed_under_a_taker_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        let file = File::create(&path).unwrap();
        fs::remove_file(&path).unwrap();
        assert!(!same_file(&file, &path));
        File::create(&path).unwrap();
        assert!(!same_file(&file, &path));
    }
}
