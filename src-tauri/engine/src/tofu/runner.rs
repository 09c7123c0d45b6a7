//! Runs `tofu` in a deployment's work dir and streams typed events.
//!
//! Every command gets `-input=false -no-color` and, where OpenTofu has it,
//! `-json`. Cancelling sends exactly one SIGINT: OpenTofu then persists its
//! state and stops the walk; the runner waits for it to exit before it says
//! "cancelled". Only a second cancel kills (state may then be incomplete).
//! The child runs in its own process group, so a Ctrl-C in the operator's
//! terminal does not reach it as a second, state-losing interrupt.
//!
//! State-changing commands write to files in the work dir, not pipes, and
//! their pid is recorded there (see `process`): if the app dies, tofu
//! carries on and saves what it created, and the next command on that work
//! dir follows it until it exits before starting.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{ChildStderr, ChildStdout, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::env::{ChildEnv, SCRUBBED_PREFIXES};
use super::error::TofuError;
use super::locate::TofuBinary;
use super::messages::{ChangeSummary, LogLevel, LogSource, Operation, Severity, TofuEvent, parse_line};
use super::module::PLAN_FILE;
use super::outputs::{self, TofuOutputs};
use super::process::{self, RunRecord, ShownMark, Tail};

/// Markers of failures worth another `init` (registry or network trouble):
/// exactly the list of the system this app replaces, which held in production;
/// configuration errors never match them.
pub const TRANSIENT_INIT_MARKERS: [&str; 16] = [
    "Failed to install provider",
    "Failed to query available provider packages",
    "could not query provider registry",
    "502 Bad Gateway",
    "503 Service Unavailable",
    "504 Gateway Timeout",
    "TLS handshake timeout",
    "i/o timeout",
    "connection reset by peer",
    "connection refused",
    "no such host",
    "Temporary failure in name resolution",
    "context deadline exceeded",
    "unexpected EOF",
    "checksum mismatch",
    "error fetching checksums",
];

pub const DEFAULT_INIT_BACKOFFS: [Duration; 3] = [
    Duration::from_secs(5),
    Duration::from_secs(15),
    Duration::from_secs(45),
];

pub fn is_transient(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    TRANSIENT_INIT_MARKERS
        .iter()
        .any(|m| lower.contains(&m.to_ascii_lowercase()))
}

pub use super::cancel::{CancelHandle, CancelLevel};

pub type Sink<'a> = &'a mut (dyn FnMut(TofuEvent) + Send);

pub struct Runner {
    binary: TofuBinary,
    work_dir: PathBuf,
    env: ChildEnv,
    init_backoffs: Vec<Duration>,
}

/// What one command did, before it is judged.
#[derive(Debug, Default)]
struct Outcome {
    exit: i32,
    summary: Option<ChangeSummary>,
    first_error: Option<String>,
    first_stderr: Option<String>,
    /// Diagnostic and stderr text, for the transient-failure check.
    texts: Vec<String>,
    stdout: String,
}

impl Outcome {
    fn judge(self, command: &str) -> Result<Outcome, TofuError> {
        if self.exit == 0 {
            return Ok(self);
        }
        let summary = self
            .first_error
            .clone()
            .or_else(|| self.first_stderr.clone())
            .unwrap_or_else(|| "no error message was printed".to_owned());
        Err(TofuError::Failed {
            command: command.to_owned(),
            exit: self.exit,
            summary,
        })
    }
}

/// State-changing commands wait this long for the state lock instead of
/// failing at once: a tofu the killed app started in the instant before its
/// run record was written is unknown to the follow-up, but still holds the
/// lock, and the next command then waits for it to finish.
const LOCK_TIMEOUT: &str = "-lock-timeout=300s";

impl Runner {
    pub fn new(binary: TofuBinary, work_dir: impl Into<PathBuf>, env: ChildEnv) -> Runner {
        Runner {
            binary,
            work_dir: work_dir.into(),
            env,
            init_backoffs: DEFAULT_INIT_BACKOFFS.to_vec(),
        }
    }

    /// Waits between `init` attempts (tests use short ones).
    pub fn with_init_backoffs(mut self, backoffs: Vec<Duration>) -> Runner {
        self.init_backoffs = backoffs;
        self
    }

    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// `tofu init`, retried only on transient registry/network failures.
    pub async fn init(&self, sink: Sink<'_>, cancel: &CancelHandle) -> Result<(), TofuError> {
        let mut args = vec!["init", "-input=false", "-no-color"];
        if self.binary.init_speaks_json() {
            args.push("-json");
        }
        let mut attempt = 0;
        loop {
            let outcome = self.run("init", &args, sink, cancel, false).await?;
            let transient = outcome.exit != 0 && outcome.texts.iter().any(|t| is_transient(t));
            match outcome.judge("init") {
                Ok(_) => return Ok(()),
                Err(e) if transient && attempt < self.init_backoffs.len() => {
                    let wait = self.init_backoffs[attempt];
                    attempt += 1;
                    sink(runner_log(
                        LogLevel::Warn,
                        format!(
                            "{e} This looks transient; trying again in {} s (retry {attempt} of {}).",
                            wait.as_secs_f32(),
                            self.init_backoffs.len()
                        ),
                    ));
                    let mut rx = cancel.subscribe();
                    if rx.borrow_and_update().is_cancelled() {
                        return Err(TofuError::Cancelled {
                            command: "init".into(),
                        });
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = rx.changed() => return Err(TofuError::Cancelled { command: "init".into() }),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `tofu plan -out=tfplan`; returns what the plan would change.
    pub async fn plan(&self, sink: Sink<'_>, cancel: &CancelHandle) -> Result<ChangeSummary, TofuError> {
        let out = format!("-out={PLAN_FILE}");
        let args = [
            "plan",
            "-json",
            "-input=false",
            "-no-color",
            LOCK_TIMEOUT,
            out.as_str(),
        ];
        let o = self
            .run("plan", &args, sink, cancel, false)
            .await?
            .judge("plan")?;
        Ok(o.summary.unwrap_or(empty_summary(Operation::Plan)))
    }

    /// Applies the saved plan (never a fresh one: what was shown is what runs).
    pub async fn apply(&self, sink: Sink<'_>, cancel: &CancelHandle) -> Result<ChangeSummary, TofuError> {
        let plan = self.work_dir.join(PLAN_FILE);
        if !plan.is_file() {
            return Err(TofuError::InvalidInput(
                "there is no saved plan to apply; plan first".into(),
            ));
        }
        let args = [
            "apply",
            "-json",
            "-input=false",
            "-no-color",
            LOCK_TIMEOUT,
            PLAN_FILE,
        ];
        let o = self
            .run("apply", &args, sink, cancel, false)
            .await?
            .judge("apply")?;
        // A used plan is stale; removing it means a resume always re-plans.
        let _ = std::fs::remove_file(&plan);
        Ok(o.summary.unwrap_or(empty_summary(Operation::Apply)))
    }

    /// `tofu output -json` (this command has no `-input` flag).
    pub async fn output(&self, cancel: &CancelHandle) -> Result<TofuOutputs, TofuError> {
        let mut discard = |_e: TofuEvent| {};
        let o = self
            .run(
                "output",
                &["output", "-json", "-no-color"],
                &mut discard,
                cancel,
                true,
            )
            .await?
            .judge("output")?;
        outputs::parse(&o.stdout)
    }

    /// `tofu destroy`: deletes what the state knows. The wipe still sweeps by
    /// label afterwards for what it does not.
    pub async fn destroy(&self, sink: Sink<'_>, cancel: &CancelHandle) -> Result<ChangeSummary, TofuError> {
        let args = [
            "destroy",
            "-json",
            "-input=false",
            "-no-color",
            "-auto-approve",
            LOCK_TIMEOUT,
        ];
        let o = self
            .run("destroy", &args, sink, cancel, false)
            .await?
            .judge("destroy")?;
        Ok(o.summary.unwrap_or(empty_summary(Operation::Destroy)))
    }

    async fn run(
        &self,
        command: &str,
        args: &[&str],
        sink: Sink<'_>,
        cancel: &CancelHandle,
        capture: bool,
    ) -> Result<Outcome, TofuError> {
        if cancel.level().is_cancelled() {
            return Err(TofuError::Cancelled {
                command: command.to_owned(),
            });
        }
        self.follow_earlier(command, sink, cancel).await?;
        let mut cmd = Command::new(self.binary.path());
        cmd.args(args).current_dir(&self.work_dir).stdin(Stdio::null());
        for (k, _) in std::env::vars_os() {
            if let Some(k) = k.to_str()
                && SCRUBBED_PREFIXES.iter().any(|p| k.starts_with(p))
            {
                cmd.env_remove(k);
            }
        }
        for (k, v) in self.env.vars() {
            cmd.env(k, v);
        }
        // Its own process group: neither a Ctrl-C in the operator's terminal
        // nor the app's death signals it.
        #[cfg(unix)]
        cmd.process_group(0);
        // The state, its backup and the plan are the operator's only,
        // whatever umask the app was started with.
        #[cfg(unix)]
        // SAFETY: umask is async-signal-safe and changes only the child's mask.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0o077);
                Ok(())
            });
        }
        let spawn_err = |source| TofuError::Spawn {
            binary: self.binary.path().to_path_buf(),
            source,
        };
        if capture {
            // `tofu output -json` prints sensitive outputs in clear, so its
            // stdout never goes to a file; it changes nothing, so dying with
            // the app loses nothing either.
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                // Last resort if the caller drops the future; callers cancel instead.
                .kill_on_drop(true);
            let mut child = cmd.spawn().map_err(spawn_err)?;
            let pid = child.id();
            let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
                let _ = child.start_kill();
                return Err(spawn_err(std::io::Error::other("no pipes to the child")));
            };
            let (kill_tx, waiter) = wait_child(child);
            let mut out = Lines::Out(LineReader::new(stdout));
            let mut err = Lines::Err(LineReader::new(stderr));
            return supervise(
                command,
                pid,
                waiter,
                kill_tx,
                [&mut out, &mut err],
                capture,
                None,
                sink,
                cancel,
            )
            .await;
        }
        // Files, not pipes: tofu must be able to write after the app is gone,
        // or it dies between creating an object and saving it to the state.
        let (stdout, stderr) = process::output_files(&self.work_dir).map_err(|source| TofuError::Write {
            path: self.work_dir.join(process::STDOUT_FILE),
            source,
        })?;
        cmd.stdout(stdout).stderr(stderr);
        let mut mark = self.shown_mark(true, sink);
        let child = cmd.spawn().map_err(spawn_err)?;
        let pid = child.id();
        if let Some(pid) = pid {
            let record = RunRecord {
                pid,
                start_time: process::start_time(pid),
                command: command.to_owned(),
            };
            if let Err(e) = record.write(&self.work_dir) {
                sink(runner_log(
                    LogLevel::Warn,
                    format!(
                        "Could not record tofu's pid in the work dir ({e}); if the app stops before tofu \
                         {command} ends, a resume will not wait for it."
                    ),
                ));
            }
        }
        let (kill_tx, waiter) = wait_child(child);
        let mut out = Lines::File(Tail::new(self.work_dir.join(process::STDOUT_FILE)));
        let mut err = Lines::File(Tail::new(self.work_dir.join(process::STDERR_FILE)));
        let result = supervise(
            command,
            pid,
            waiter,
            kill_tx,
            [&mut out, &mut err],
            capture,
            mark.as_mut(),
            sink,
            cancel,
        )
        .await;
        RunRecord::remove(&self.work_dir);
        ShownMark::remove(&self.work_dir);
        result
    }

    /// The mark of how much of tofu's output files has been shown; without
    /// one (a write error), a later follow shows the output from the start.
    fn shown_mark(&self, fresh: bool, sink: Sink<'_>) -> Option<ShownMark> {
        match ShownMark::open(&self.work_dir, fresh) {
            Ok(m) => Some(m),
            Err(e) => {
                sink(runner_log(
                    LogLevel::Warn,
                    format!(
                        "Could not keep track of tofu's output in the work dir ({e}); if the app stops \
                         while tofu runs, a resume shows that output again from the start."
                    ),
                ));
                None
            }
        }
    }

    /// A tofu started by an earlier run of the app (which then stopped) may
    /// still be running: its output is followed until it exits, so the next
    /// command starts on the state it leaves. One that has already ended is
    /// shown as it was written.
    async fn follow_earlier(
        &self,
        command: &str,
        sink: Sink<'_>,
        cancel: &CancelHandle,
    ) -> Result<(), TofuError> {
        let Some(earlier) = RunRecord::read(&self.work_dir) else {
            return Ok(());
        };
        let alive = earlier.alive();
        let (shown_out, shown_err) = ShownMark::read(&self.work_dir);
        let repeats = if shown_out + shown_err > 0 {
            " Lines the app showed before it stopped are not repeated."
        } else {
            ""
        };
        sink(runner_log(
            LogLevel::Warn,
            if alive {
                format!(
                    "tofu {} (pid {}) from an earlier run of the app is still running; following its output \
                     until it exits, then running tofu {command}.{repeats}",
                    earlier.command, earlier.pid
                )
            } else {
                format!(
                    "tofu {} (pid {}) from an earlier run of the app ended while the app was not watching; \
                     its output follows.{repeats}",
                    earlier.command, earlier.pid
                )
            },
        ));
        let (kill_tx, waiter) = wait_adopted(earlier.pid, earlier.start_time, alive);
        let mut out = Lines::File(Tail::starting_at(
            self.work_dir.join(process::STDOUT_FILE),
            shown_out,
        ));
        let mut err = Lines::File(Tail::starting_at(
            self.work_dir.join(process::STDERR_FILE),
            shown_err,
        ));
        // This run may stop too: the mark goes on from where it was.
        let mut mark = self.shown_mark(false, sink);
        let result = supervise(
            &earlier.command,
            // An ended process's pid may be someone else's by now: never signal it.
            alive.then_some(earlier.pid),
            waiter,
            kill_tx,
            [&mut out, &mut err],
            false,
            mark.as_mut(),
            sink,
            cancel,
        )
        .await;
        RunRecord::remove(&self.work_dir);
        ShownMark::remove(&self.work_dir);
        result.map(|_| ())
    }
}

/// Waits for our own child; a message on the channel kills its group.
fn wait_child(mut child: tokio::process::Child) -> (oneshot::Sender<()>, JoinHandle<i32>) {
    let (kill_tx, mut kill_rx) = oneshot::channel::<()>();
    let waiter = tokio::spawn(async move {
        let st = tokio::select! {
            st = child.wait() => st,
            Ok(()) = &mut kill_rx => {
                let killed = child.id().is_some_and(process::kill_group);
                if !killed {
                    let _ = child.start_kill();
                }
                child.wait().await
            }
        };
        match st {
            Ok(st) => st.code().unwrap_or(-1),
            Err(_) => -1,
        }
    });
    (kill_tx, waiter)
}

/// Waits for a tofu that is not our child (its exit code is not ours to
/// know) by looking whether it still runs.
fn wait_adopted(pid: u32, start: Option<u64>, alive: bool) -> (oneshot::Sender<()>, JoinHandle<i32>) {
    let (kill_tx, mut kill_rx) = oneshot::channel::<()>();
    let waiter = tokio::spawn(async move {
        let mut kill_open = alive;
        while process::alive(pid, start) {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                r = &mut kill_rx, if kill_open => {
                    kill_open = false;
                    if r.is_ok() {
                        process::kill_group(pid);
                    }
                }
            }
        }
        -1
    });
    (kill_tx, waiter)
}

/// Where a command's output lines come from.
enum Lines {
    Out(LineReader<ChildStdout>),
    Err(LineReader<ChildStderr>),
    File(Tail),
}

impl Lines {
    async fn next(&mut self) -> Option<String> {
        match self {
            Lines::Out(r) => r.next().await,
            Lines::Err(r) => r.next().await,
            Lines::File(t) => t.next().await,
        }
    }

    fn done(&self) -> bool {
        match self {
            Lines::Out(r) => r.done,
            Lines::Err(r) => r.done,
            Lines::File(t) => t.done,
        }
    }

    /// Bytes handed out as lines (files only; a pipe cannot be followed again).
    fn shown(&self) -> u64 {
        match self {
            Lines::File(t) => t.shown(),
            _ => 0,
        }
    }

    /// The process has exited (a pipe sees its end by itself).
    fn close(&mut self) {
        if let Lines::File(t) = self {
            t.close();
        }
    }
}

/// Streams a running tofu's output into the sink until it exits, and turns
/// cancels into one interrupt, then a kill.
#[allow(clippy::too_many_arguments)]
async fn supervise(
    command: &str,
    pid: Option<u32>,
    mut waiter: JoinHandle<i32>,
    kill_tx: oneshot::Sender<()>,
    [out, err]: [&mut Lines; 2],
    capture: bool,
    mut mark: Option<&mut ShownMark>,
    sink: Sink<'_>,
    cancel: &CancelHandle,
) -> Result<Outcome, TofuError> {
    // After the line went to the sink (which logged it), never before.
    let mut shown = |out: &Lines, err: &Lines| {
        if let Some(m) = mark.as_mut() {
            let _ = m.save(out.shown(), err.shown());
        }
    };
    let mut kill_tx = Some(kill_tx);
    let mut outcome = Outcome::default();
    let mut cancel_rx = cancel.subscribe();
    // A cancel that came while an earlier tofu was followed counts here too.
    let mut pending = *cancel_rx.borrow_and_update();
    let mut cancel_open = true;
    let mut interrupted = false;
    let mut killed = false;

    let status = loop {
        if pending == CancelLevel::Kill && !killed {
            killed = true;
            if let Some(tx) = kill_tx.take() {
                let _ = tx.send(());
            }
            sink(runner_log(
                LogLevel::Warn,
                format!("Second cancel: killing tofu {command}."),
            ));
        } else if pending.is_cancelled() && !interrupted {
            interrupted = true;
            let how = if pid.is_some_and(process::interrupt) {
                "sent one interrupt; waiting for tofu to save its state and exit"
            } else {
                "this platform cannot interrupt tofu gracefully; waiting for it (cancel again to kill)"
            };
            sink(runner_log(
                LogLevel::Warn,
                format!("Cancel requested for tofu {command}: {how}."),
            ));
        }
        tokio::select! {
            line = out.next(), if !out.done() => {
                if let Some(line) = line {
                    handle_line(line, LogSource::Stdout, capture, &mut outcome, sink);
                    shown(out, err);
                }
            }
            line = err.next(), if !err.done() => {
                if let Some(line) = line {
                    handle_line(line, LogSource::Stderr, false, &mut outcome, sink);
                    shown(out, err);
                }
            }
            changed = cancel_rx.changed(), if cancel_open => {
                if changed.is_err() {
                    cancel_open = false;
                    continue;
                }
                pending = *cancel_rx.borrow_and_update();
            }
            status = &mut waiter => break status,
        }
    };
    // The process is gone; what it wrote before exiting may not be read yet.
    out.close();
    err.close();
    let drain = async {
        while !out.done() || !err.done() {
            tokio::select! {
                line = out.next(), if !out.done() => if let Some(l) = line {
                    handle_line(l, LogSource::Stdout, capture, &mut outcome, sink);
                    shown(out, err);
                },
                line = err.next(), if !err.done() => if let Some(l) = line {
                    handle_line(l, LogSource::Stderr, false, &mut outcome, sink);
                    shown(out, err);
                },
            }
        }
    };
    // A provider grandchild could hold a pipe open; do not wait on it forever.
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    outcome.exit = status.unwrap_or(-1);
    if killed {
        return Err(TofuError::Killed {
            command: command.to_owned(),
        });
    }
    if interrupted {
        sink(runner_log(
            LogLevel::Info,
            format!(
                "tofu {command} stopped after the interrupt (exit {}).",
                outcome.exit
            ),
        ));
        return Err(TofuError::Cancelled {
            command: command.to_owned(),
        });
    }
    Ok(outcome)
}

fn handle_line(line: String, source: LogSource, capture: bool, o: &mut Outcome, sink: Sink<'_>) {
    if capture {
        o.stdout.push_str(&line);
        o.stdout.push('\n');
        return;
    }
    let ev = parse_line(&line, source);
    match &ev {
        TofuEvent::Diagnostic { diagnostic: d } => {
            o.texts.push(format!("{} {}", d.summary, d.detail));
            if d.severity == Severity::Error && o.first_error.is_none() {
                o.first_error = Some(match &d.address {
                    Some(a) => format!("{a}: {}", d.summary),
                    None => d.summary.clone(),
                });
            }
        }
        TofuEvent::ChangeSummary { summary } => o.summary = Some(*summary),
        TofuEvent::Log { message, .. } if source == LogSource::Stderr => {
            o.texts.push(message.clone());
            if !message.trim().is_empty() && o.first_stderr.is_none() {
                o.first_stderr = Some(message.clone());
            }
        }
        TofuEvent::Log { message, .. } | TofuEvent::Init { message, .. } => o.texts.push(message.clone()),
        _ => {}
    }
    sink(ev);
}

fn runner_log(level: LogLevel, message: String) -> TofuEvent {
    TofuEvent::Log {
        level,
        source: LogSource::Runner,
        message,
        message_type: None,
    }
}

fn empty_summary(operation: Operation) -> ChangeSummary {
    ChangeSummary {
        operation,
        add: 0,
        change: 0,
        remove: 0,
        import: 0,
        forget: 0,
    }
}

/// Lines as lossy UTF-8 (a stray byte must not end the stream), read with
/// `read_until`, which keeps partial input across `select!` iterations.
struct LineReader<R> {
    inner: BufReader<R>,
    buf: Vec<u8>,
    done: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(r: R) -> Self {
        LineReader {
            inner: BufReader::new(r),
            buf: Vec::new(),
            done: false,
        }
    }

    async fn next(&mut self) -> Option<String> {
        match self.inner.read_until(b'\n', &mut self.buf).await {
            Ok(0) | Err(_) => {
                self.done = true;
                if self.buf.is_empty() {
                    None
                } else {
                    Some(take_line(&mut self.buf))
                }
            }
            Ok(_) => Some(take_line(&mut self.buf)),
        }
    }
}

fn take_line(buf: &mut Vec<u8>) -> String {
    let s = String::from_utf8_lossy(buf)
        .trim_end_matches(['\n', '\r'])
        .to_owned();
    buf.clear();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_markers_match_registry_trouble_only() {
        assert!(is_transient(
            "Failed to query available provider packages: could not connect"
        ));
        assert!(is_transient(
            "dial tcp: lookup registry.opentofu.org: no such host"
        ));
        assert!(is_transient("net/http: TLS handshake timeout"));
        assert!(!is_transient(
            "Unsupported argument: An argument named \"foo\" is not expected here."
        ));
        assert!(!is_transient("Invalid value for variable"));
        // OpenTofu's prefix for every provider install failure, whatever
        // the cause: on its own it is no sign of a transient one.
        assert!(!is_transient(
            "Error while installing hetznercloud/hcloud v1.52.0: provider binary not found in the package"
        ));
    }

    #[test]
    fn transient_markers_are_the_replaced_systems_list() {
        // The init-retry list of the system this app replaces, verbatim.
        let reference = [
            "Failed to install provider",
            "Failed to query available provider packages",
            "could not query provider registry",
            "502",
            "503",
            "504",
            "TLS handshake timeout",
            "i/o timeout",
            "connection reset",
            "connection refused",
            "no such host",
            "Temporary failure in name resolution",
            "context deadline exceeded",
            "unexpected EOF",
            "checksum mismatch",
            "error fetching checksums",
        ];
        assert_eq!(TRANSIENT_INIT_MARKERS.len(), reference.len());
        for (m, r) in TRANSIENT_INIT_MARKERS.iter().zip(reference) {
            assert!(m.contains(r), "{m:?} is not the reference's {r:?}");
        }
    }
}
