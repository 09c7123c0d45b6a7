//! A `tofu` that outlives the app: what the runner records about it in the
//! work dir, and how it finds it again.
//!
//! OpenTofu writes state as it goes; if it dies half-way (the app was killed
//! and took tofu's pipes with it), an object Hetzner already created is
//! missing from the state and the next apply meets `uniqueness_error`. So
//! the runner starts tofu in its own process group with stdout and stderr
//! going to files in the work dir (never pipes to the app), and records its
//! pid and start time in [`RECORD_FILE`]. A later run of the same
//! deployment finds the record, follows the files until that tofu exits,
//! and only then runs its own command (the state lock would refuse it
//! meanwhile anyway). [`SHOWN_FILE`] marks how far the app had shown the
//! output, so the follow does not show those lines twice. The files hold
//! exactly what tofu prints; secrets stay in its environment.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `{"pid", "start_time", "command"}` of the tofu that is (or was) running.
pub const RECORD_FILE: &str = "tofu-run.json";
/// tofu's stdout (the `-json` stream) of the last command.
pub const STDOUT_FILE: &str = "tofu-run.stdout";
/// tofu's stderr of the last command.
pub const STDERR_FILE: &str = "tofu-run.stderr";
/// How far into [`STDOUT_FILE`] and [`STDERR_FILE`] the app has shown lines.
pub const SHOWN_FILE: &str = "tofu-run.shown";

/// A followed file is looked at again this soon after it gave data (lines
/// tend to come in runs), then ever less often up to `POLL_IDLE`. A fixed
/// 10 ms poll put the event path's p99 at 34 ms at 1 000 lines/s (pipes: 0.2 ms).
const POLL_BUSY: Duration = Duration::from_millis(1);
const POLL_IDLE: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub pid: u32,
    /// The process's start time (`/proc/<pid>/stat`, clock ticks since boot)
    /// where the platform has it, so a reused pid is not taken for tofu.
    pub start_time: Option<u64>,
    pub command: String,
}

impl RunRecord {
    pub fn read(work_dir: &Path) -> Option<RunRecord> {
        let text = std::fs::read_to_string(work_dir.join(RECORD_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Written with a temporary file and a rename, so a reader never sees half.
    pub fn write(&self, work_dir: &Path) -> std::io::Result<()> {
        let path = work_dir.join(RECORD_FILE);
        let tmp = work_dir.join(format!("{RECORD_FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec(self).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)
    }

    pub fn remove(work_dir: &Path) {
        let _ = std::fs::remove_file(work_dir.join(RECORD_FILE));
    }

    /// The recorded process still runs, and it is the one recorded.
    pub fn alive(&self) -> bool {
        alive(self.pid, self.start_time)
    }
}

/// Bytes of tofu's stdout and stderr whose lines the app has already passed
/// on (into the event log), so a later run following the same tofu starts
/// there instead of showing them twice. Saved after every line as one
/// fixed-width overwrite, without fsync: the event log syncs each event
/// before, so a stale mark only repeats lines, never skips one.
pub struct ShownMark {
    file: std::fs::File,
}

impl ShownMark {
    /// Opens the mark of `work_dir`; `fresh` starts it at zero (a new command).
    pub fn open(work_dir: &Path, fresh: bool) -> std::io::Result<ShownMark> {
        let mut o = std::fs::OpenOptions::new();
        o.create(true).write(true).truncate(fresh);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut mark = ShownMark {
            file: o.open(work_dir.join(SHOWN_FILE))?,
        };
        if fresh {
            mark.save(0, 0)?;
        }
        Ok(mark)
    }

    pub fn save(&mut self, stdout: u64, stderr: u64) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.file
            .write_all(format!("{stdout:020} {stderr:020}\n").as_bytes())
    }

    /// (stdout, stderr) shown; (0, 0) when there is no readable mark.
    pub fn read(work_dir: &Path) -> (u64, u64) {
        let text = std::fs::read_to_string(work_dir.join(SHOWN_FILE)).unwrap_or_default();
        let mut n = text.split_whitespace().map(|v| v.parse::<u64>().ok());
        match (n.next().flatten(), n.next().flatten()) {
            (Some(o), Some(e)) => (o, e),
            _ => (0, 0),
        }
    }

    pub fn remove(work_dir: &Path) {
        let _ = std::fs::remove_file(work_dir.join(SHOWN_FILE));
    }
}

/// Files for a new command's output: created (0600) or truncated.
pub fn output_files(work_dir: &Path) -> std::io::Result<(std::fs::File, std::fs::File)> {
    let open = |name: &str| {
        let mut o = std::fs::OpenOptions::new();
        o.create(true).write(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        o.open(work_dir.join(name))
    };
    Ok((open(STDOUT_FILE)?, open(STDERR_FILE)?))
}

#[cfg(target_os = "linux")]
fn stat_fields(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 of stat(5) is starttime; `rest` starts at field 3.
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// The start time of `pid`, where the platform tells it.
pub fn start_time(pid: u32) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid).map(|(_, s)| s)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

#[cfg(unix)]
pub fn alive(pid: u32, start: Option<u64>) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if p <= 0 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(p, 0) == 0 }
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        match stat_fields(pid) {
            // A zombie has exited; only its parent has not reaped it yet.
            Some(('Z', _)) | None => false,
            Some((_, now)) => start.is_none_or(|s| s == now),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = start;
        true
    }
}

#[cfg(not(unix))]
pub fn alive(_pid: u32, _start: Option<u64>) -> bool {
    // No way to tell a reused pid here: never adopt.
    false
}

/// One SIGINT to tofu itself (OpenTofu's graceful stop).
#[cfg(unix)]
pub fn interrupt(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) takes plain integers and has no memory effects.
    p > 0 && unsafe { libc::kill(p, libc::SIGINT) == 0 }
}

#[cfg(not(unix))]
pub fn interrupt(_pid: u32) -> bool {
    // Windows needs a console CTRL event in the child's own group; not done yet.
    false
}

/// SIGKILL to tofu's process group (tofu and its provider plugins); the
/// group id is tofu's pid, since it was started as the group's leader.
#[cfg(unix)]
pub fn kill_group(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: as above; a negative pid names the process group.
    p > 0 && unsafe { libc::kill(-p, libc::SIGKILL) == 0 }
}

#[cfg(not(unix))]
pub fn kill_group(_pid: u32) -> bool {
    false
}

/// Lines of a file another process is still writing, read as they arrive
/// (lossy UTF-8, like the pipes were). `next` waits for a whole line until
/// [`Tail::close`] says the writer is gone; then the rest comes out and the
/// tail is `done`. Reads keep their progress in `self`, so `next` may be
/// dropped in a `select!` without losing input.
pub struct Tail {
    path: PathBuf,
    file: Option<std::fs::File>,
    offset: u64,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    closing: bool,
    /// Wait before the next look at the file; grows while it stays quiet.
    poll: Duration,
    pub done: bool,
}

impl Tail {
    pub fn new(path: PathBuf) -> Tail {
        Tail::starting_at(path, 0)
    }

    /// Follows from byte `offset` on (what an earlier run already showed);
    /// an offset past the end of the file (not the file the mark was for)
    /// starts at the beginning instead, so nothing is skipped.
    pub fn starting_at(path: PathBuf, offset: u64) -> Tail {
        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
        Tail {
            path,
            file: None,
            offset: if offset <= len { offset } else { 0 },
            buf: Vec::new(),
            pos: 0,
            closing: false,
            poll: POLL_BUSY,
            done: false,
        }
    }

    /// Bytes of the file handed out as lines so far.
    pub fn shown(&self) -> u64 {
        self.offset - (self.buf.len() - self.pos) as u64
    }

    /// The writer has exited: what is in the file now is all there will be.
    pub fn close(&mut self) {
        self.closing = true;
    }

    fn take_line(&mut self) -> Option<String> {
        let nl = self.buf[self.pos..].iter().position(|b| *b == b'\n')?;
        let line = &self.buf[self.pos..self.pos + nl];
        let s = String::from_utf8_lossy(line).trim_end_matches('\r').to_owned();
        self.pos += nl + 1;
        Some(s)
    }

    /// Reads what has been appended since the last read; false at EOF.
    fn fill(&mut self) -> bool {
        if self.file.is_none() {
            match std::fs::File::open(&self.path) {
                Ok(mut f) => {
                    if f.seek(SeekFrom::Start(self.offset)).is_err() {
                        return false;
                    }
                    self.file = Some(f);
                }
                Err(_) => return false,
            }
        }
        let Some(f) = self.file.as_mut() else {
            return false;
        };
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        match f.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.offset += n as u64;
                true
            }
        }
    }

    pub async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(line) = self.take_line() {
                return Some(line);
            }
            if self.fill() {
                self.poll = POLL_BUSY;
                continue;
            }
            if self.closing {
                self.done = true;
                if self.pos < self.buf.len() {
                    let rest = String::from_utf8_lossy(&self.buf[self.pos..])
                        .trim_end_matches(['\n', '\r'])
                        .to_owned();
                    self.buf.clear();
                    self.pos = 0;
                    return Some(rest);
                }
                return None;
            }
            tokio::time::sleep(self.poll).await;
            self.poll = (self.poll * 2).min(POLL_IDLE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn a_tail_follows_a_growing_file_and_ends_after_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut f = std::fs::File::create(&path).unwrap();
        let mut t = Tail::new(path.clone());
        f.write_all(b"one\ntw").unwrap();
        assert_eq!(t.next().await.as_deref(), Some("one"));
        // Half a line is not a line while the writer may still finish it.
        let half = tokio::time::timeout(Duration::from_millis(50), t.next()).await;
        assert!(half.is_err());
        f.write_all(b"o\r\nthree\xff").unwrap();
        assert_eq!(t.next().await.as_deref(), Some("two"));
        t.close();
        assert_eq!(t.next().await.as_deref(), Some("three\u{fffd}"));
        assert_eq!(t.next().await, None);
        assert!(t.done);
    }

    #[tokio::test]
    async fn a_mark_round_trips_and_a_tail_resumes_after_what_was_shown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ShownMark::read(dir.path()), (0, 0));
        let path = dir.path().join(STDOUT_FILE);
        std::fs::write(&path, "one\ntwo\nthr").unwrap();
        let mut t = Tail::new(path.clone());
        assert_eq!(t.next().await.as_deref(), Some("one"));
        // Half a line read ahead is not shown yet.
        assert_eq!(t.shown(), 4);
        let mut mark = ShownMark::open(dir.path(), true).unwrap();
        mark.save(123_456, 7).unwrap();
        mark.save(t.shown(), 0).unwrap();
        assert_eq!(ShownMark::read(dir.path()), (4, 0));
        let mut again = Tail::starting_at(path.clone(), 4);
        again.close();
        assert_eq!(again.next().await.as_deref(), Some("two"));
        assert_eq!(again.next().await.as_deref(), Some("thr"));
        // A mark past the end is not this file's: start from the top.
        let mut other = Tail::starting_at(path, 1_000);
        assert_eq!(other.next().await.as_deref(), Some("one"));
        ShownMark::remove(dir.path());
        assert_eq!(ShownMark::read(dir.path()), (0, 0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_alive_with_its_start_time_and_not_with_another() {
        let me = std::process::id();
        let start = start_time(me).unwrap();
        assert!(alive(me, Some(start)));
        assert!(alive(me, None));
        assert!(!alive(me, Some(start + 1)), "a reused pid must not count");
    }

    #[test]
    fn a_record_round_trips_and_a_missing_one_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(RunRecord::read(dir.path()), None);
        let r = RunRecord {
            pid: 42,
            start_time: Some(7),
            command: "apply".into(),
        };
        r.write(dir.path()).unwrap();
        assert_eq!(RunRecord::read(dir.path()), Some(r));
        RunRecord::remove(dir.path());
        assert_eq!(RunRecord::read(dir.path()), None);
    }
}
