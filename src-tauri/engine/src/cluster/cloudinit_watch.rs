//! Following cloud-init on the control plane over SSH: the output log
//! streamed line by line as it grows, its stage markers mapped to progress,
//! and `cloud-init status` polled until it says done or error.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use russh::ChannelMsg;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::error::{ClusterError, secs};
use super::ssh::{CommandOutput, SshSession};

/// How many of the last log lines an error carries.
pub const LAST_LINES: usize = 25;

/// The stages cloud-init announces in its output log, in boot order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CloudInitStage {
    InitLocal,
    Init,
    ModulesConfig,
    ModulesFinal,
    Finished,
}

impl CloudInitStage {
    pub const ALL: [CloudInitStage; 5] = [
        CloudInitStage::InitLocal,
        CloudInitStage::Init,
        CloudInitStage::ModulesConfig,
        CloudInitStage::ModulesFinal,
        CloudInitStage::Finished,
    ];

    /// 1-based position, for `done` of `total`.
    pub fn number(self) -> u32 {
        self as u32 + 1
    }

    pub fn label(self) -> &'static str {
        match self {
            CloudInitStage::InitLocal => "cloud-init: local setup",
            CloudInitStage::Init => "cloud-init: network and users",
            CloudInitStage::ModulesConfig => "cloud-init: configuration",
            CloudInitStage::ModulesFinal => "cloud-init: k3s, Cilium and Flux (runcmd)",
            CloudInitStage::Finished => "cloud-init: finished",
        }
    }

    /// The stage a log line announces, if it is one of cloud-init's own
    /// banners (`Cloud-init v. 24.1 running 'init' at …`, `… finished at …`).
    pub fn from_log_line(line: &str) -> Option<CloudInitStage> {
        let rest = line.trim_start().strip_prefix("Cloud-init v. ")?;
        if rest.contains(" finished at ") {
            return Some(CloudInitStage::Finished);
        }
        let name = rest.split(" running '").nth(1)?.split('\'').next()?;
        match name {
            "init-local" => Some(CloudInitStage::InitLocal),
            "init" => Some(CloudInitStage::Init),
            "modules:config" => Some(CloudInitStage::ModulesConfig),
            "modules:final" => Some(CloudInitStage::ModulesFinal),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CloudInitProgress {
    pub stage: CloudInitStage,
    pub done: u32,
    pub total: u32,
    pub label: String,
}

impl From<CloudInitStage> for CloudInitProgress {
    fn from(stage: CloudInitStage) -> Self {
        CloudInitProgress {
            stage,
            done: stage.number(),
            total: CloudInitStage::ALL.len() as u32,
            label: stage.label().to_owned(),
        }
    }
}

/// What following cloud-init reports, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CloudInitEvent {
    /// One line of /var/log/cloud-init-output.log.
    Line { line: String },
    /// A stage was reached (only forward moves are reported).
    Progress { progress: CloudInitProgress },
}

/// What `cloud-init status` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudInitStatus {
    /// Not started or still running.
    Running(String),
    /// Done; recoverable errors (cloud-init's "degraded done") are kept.
    Done {
        recoverable: Vec<String>,
    },
    Error {
        errors: Vec<String>,
    },
    /// Output we cannot read; polling continues.
    Unknown(String),
}

/// Reads `cloud-init status --format json`, or the plain `status: done` form
/// of older releases. Exit status 1 is cloud-init's "error", 2 its
/// "recoverable error" (done, degraded).
pub fn parse_status(stdout: &str, exit_status: Option<u32>) -> CloudInitStatus {
    let text = stdout.trim();
    if let Ok(json) = serde_json::from_str::<Value>(text) {
        let status = json
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let errors = strings(json.get("errors"));
        let recoverable = recoverable_errors(json.get("recoverable_errors"));
        return classify(&status, errors, recoverable, exit_status);
    }
    let status = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("status:"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    classify(&status, Vec::new(), Vec::new(), exit_status)
}

fn classify(
    status: &str,
    errors: Vec<String>,
    recoverable: Vec<String>,
    exit_status: Option<u32>,
) -> CloudInitStatus {
    match status {
        "done" => CloudInitStatus::Done { recoverable },
        "error" => CloudInitStatus::Error {
            errors: if errors.is_empty() {
                vec![format!(
                    "cloud-init status is error (exit {})",
                    exit_display(exit_status)
                )]
            } else {
                errors
            },
        },
        // Disabled never runs: waiting on it would only end in a timeout.
        "disabled" => CloudInitStatus::Error {
            errors: vec!["cloud-init is disabled on this server".into()],
        },
        "running" | "not started" | "not run" => CloudInitStatus::Running(status.to_owned()),
        other => CloudInitStatus::Unknown(format!(
            "unrecognised status {:?} (exit {})",
            other,
            exit_display(exit_status)
        )),
    }
}

fn exit_display(exit: Option<u32>) -> String {
    exit.map_or("none".into(), |e| e.to_string())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `recoverable_errors` is `{"WARNING": ["…"], "DEPRECATED": [...]}`.
fn recoverable_errors(v: Option<&Value>) -> Vec<String> {
    let Some(map) = v.and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .flat_map(|(level, msgs)| {
            strings(Some(msgs))
                .into_iter()
                .map(move |m| format!("{level}: {m}"))
        })
        .collect()
}

/// Splits a byte stream into lines, holding back an unfinished last line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buf.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&raw[..raw.len() - 1]);
            lines.push(text.trim_end_matches('\r').to_owned());
        }
        lines
    }

    /// What is left when the stream ends without a final newline.
    pub fn finish(&mut self) -> Option<String> {
        if self.buf.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(&self.buf)
            .trim_end_matches('\r')
            .to_owned();
        self.buf.clear();
        Some(text)
    }
}

/// Timing of the cloud-init wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudInitWait {
    /// The whole wait; cloud-init with k3s, Cilium and Flux takes 5–15 min.
    pub timeout: Duration,
    /// How often `cloud-init status` is asked.
    pub poll_interval: Duration,
    /// After status says done, how long the log may stay quiet before the
    /// follow stops (the final banner usually arrives first).
    pub drain: Duration,
}

impl Default for CloudInitWait {
    fn default() -> Self {
        CloudInitWait {
            timeout: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(5),
            drain: Duration::from_secs(2),
        }
    }
}

/// How cloud-init ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudInitReport {
    pub lines: usize,
    pub last_stage: Option<CloudInitStage>,
    /// cloud-init's recoverable errors (warnings, deprecations).
    pub recoverable_errors: Vec<String>,
    pub elapsed: Duration,
}

/// Keeps the stage and the last lines while lines stream past.
struct Tracker {
    stage: Option<CloudInitStage>,
    last: VecDeque<String>,
    lines: usize,
}

impl Tracker {
    fn observe(&mut self, line: String, sink: &mut (dyn FnMut(CloudInitEvent) + Send)) {
        self.lines += 1;
        let stage = CloudInitStage::from_log_line(&line);
        if self.last.len() == LAST_LINES {
            self.last.pop_front();
        }
        self.last.push_back(line.clone());
        sink(CloudInitEvent::Line { line });
        if let Some(s) = stage
            && self.stage.is_none_or(|cur| s > cur)
        {
            self.stage = Some(s);
            sink(CloudInitEvent::Progress { progress: s.into() });
        }
    }

    fn last_lines(&self) -> Vec<String> {
        self.last.iter().cloned().collect()
    }
}

type StatusPoll<'a> = Pin<Box<dyn Future<Output = Result<CommandOutput, ClusterError>> + Send + 'a>>;

/// The result of the status command in flight; never ready without one.
async fn running(poll: &mut Option<StatusPoll<'_>>) -> Result<CommandOutput, ClusterError> {
    match poll.as_mut() {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

/// How status ended: Ok with recoverable errors, Err with errors.
type Ending = Result<Vec<String>, Vec<String>>;

/// Lines from the follow channel, or its end.
enum Tail {
    Line(String),
    Ended(Option<u32>),
}

impl SshSession {
    /// Streams the cloud-init output log to `sink` as it grows and waits for
    /// `cloud-init status` to say done (Ok) or error (Err with the last
    /// lines of the log). Stops on `cancel` and after `wait.timeout`.
    pub async fn follow_cloud_init(
        &self,
        sink: &mut (dyn FnMut(CloudInitEvent) + Send),
        cancel: &CancellationToken,
        wait: CloudInitWait,
    ) -> Result<CloudInitReport, ClusterError> {
        let started = Instant::now();
        let deadline = started + wait.timeout;
        let stop = cancel.child_token();
        let mut channel = self.open_exec(&self.target.commands.follow_log).await?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader_stop = stop.clone();
        // The reader owns the channel so lines keep arriving while a status
        // command runs; closing stdin ends the server-side tail.
        let reader = tokio::spawn(async move {
            let mut split = LineSplitter::default();
            let mut exit = None;
            loop {
                tokio::select! {
                    _ = reader_stop.cancelled() => {
                        let _ = channel.eof().await;
                        let _ = channel.close().await;
                        break;
                    }
                    msg = channel.wait() => match msg {
                        Some(ChannelMsg::Data { data }) => {
                            for line in split.push(&data) {
                                let _ = tx.send(Tail::Line(line));
                            }
                        }
                        Some(ChannelMsg::ExtendedData { data, .. }) => {
                            tracing::debug!(stderr = %String::from_utf8_lossy(&data), "cloud-init log follow");
                        }
                        Some(ChannelMsg::ExitStatus { exit_status }) => exit = Some(exit_status),
                        Some(_) => {}
                        None => break,
                    },
                }
            }
            if let Some(rest) = split.finish() {
                let _ = tx.send(Tail::Line(rest));
            }
            let _ = tx.send(Tail::Ended(exit));
        });
        let result = self
            .wait_status(&mut rx, sink, cancel, wait, started, deadline)
            .await;
        stop.cancel();
        let _ = reader.await;
        result
    }

    async fn wait_status(
        &self,
        rx: &mut mpsc::UnboundedReceiver<Tail>,
        sink: &mut (dyn FnMut(CloudInitEvent) + Send),
        cancel: &CancellationToken,
        wait: CloudInitWait,
        started: Instant,
        deadline: Instant,
    ) -> Result<CloudInitReport, ClusterError> {
        let mut t = Tracker {
            stage: None,
            last: VecDeque::new(),
            lines: 0,
        };
        let mut tail_open = true;
        let mut next_poll = Instant::now();
        // The status command in flight: it runs while lines keep streaming.
        let mut poll: Option<StatusPoll<'_>> = None;
        // Set once status says done or error: how it ends, and until when
        // the log may still deliver its last lines.
        let mut ending: Option<(Ending, Instant)> = None;
        loop {
            if let Some((outcome, quiet_until)) = &ending {
                let banner_seen = t.stage == Some(CloudInitStage::Finished);
                if !tail_open || Instant::now() >= *quiet_until || (banner_seen && outcome.is_ok()) {
                    let outcome = outcome.clone();
                    return match outcome {
                        Ok(recoverable_errors) => Ok(CloudInitReport {
                            lines: t.lines,
                            last_stage: t.stage,
                            recoverable_errors,
                            elapsed: started.elapsed(),
                        }),
                        Err(errors) => Err(ClusterError::CloudInitFailed {
                            errors,
                            last_lines: t.last_lines(),
                        }),
                    };
                }
            }
            let wake = match &ending {
                Some((_, quiet_until)) => *quiet_until,
                None => next_poll,
            };
            tokio::select! {
                _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(ClusterError::CloudInitTimeout {
                        waited_s: secs(started.elapsed()),
                        last_lines: t.last_lines(),
                    });
                }
                msg = rx.recv(), if tail_open => match msg {
                    Some(Tail::Line(line)) => {
                        t.observe(line, sink);
                        // Each new line restarts the quiet period.
                        if let Some((_, quiet_until)) = &mut ending {
                            *quiet_until = Instant::now() + wait.drain;
                        }
                    }
                    Some(Tail::Ended(exit)) => {
                        let exit = exit_display(exit);
                        tracing::warn!(%exit, "the cloud-init log follow ended; polling status only");
                        tail_open = false;
                    }
                    None => tail_open = false,
                },
                _ = tokio::time::sleep_until(wake), if poll.is_none() => {
                    if ending.is_some() {
                        // The quiet period ended; the check above decides.
                        continue;
                    }
                    let poll_timeout = wait.poll_interval.max(Duration::from_secs(30));
                    poll = Some(Box::pin(self.run(&self.target.commands.cloud_init_status, poll_timeout, cancel)));
                }
                out = running(&mut poll), if poll.is_some() => {
                    poll = None;
                    next_poll = Instant::now() + wait.poll_interval;
                    let status = match out {
                        Ok(out) => parse_status(&out.stdout_text(), out.exit_status),
                        Err(ClusterError::Cancelled) => return Err(ClusterError::Cancelled),
                        // A failed poll is not the end: the next one may work.
                        Err(e) => CloudInitStatus::Unknown(e.to_string()),
                    };
                    let quiet_until = Instant::now() + wait.drain;
                    match status {
                        CloudInitStatus::Done { recoverable } => ending = Some((Ok(recoverable), quiet_until)),
                        CloudInitStatus::Error { errors } => ending = Some((Err(errors), quiet_until)),
                        CloudInitStatus::Running(s) => tracing::debug!(status = %s, "cloud-init still running"),
                        CloudInitStatus::Unknown(s) => tracing::warn!(status = %s, "cloud-init status unreadable"),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_banners_are_recognised_and_nothing_else() {
        let cases = [
            (
                "Cloud-init v. 24.1.3-0ubuntu3 running 'init-local' at Tue, 01 Dec 2026 10:00:01 +0000. Up 5.10 seconds.",
                Some(CloudInitStage::InitLocal),
            ),
            (
                "Cloud-init v. 24.1.3-0ubuntu3 running 'init' at Tue, 01 Dec 2026 10:00:03 +0000. Up 7.00 seconds.",
                Some(CloudInitStage::Init),
            ),
            (
                "Cloud-init v. 24.1.3 running 'modules:config' at Tue, 01 Dec 2026 10:00:09 +0000. Up 13 seconds.",
                Some(CloudInitStage::ModulesConfig),
            ),
            (
                "Cloud-init v. 24.1.3 running 'modules:final' at Tue, 01 Dec 2026 10:00:10 +0000. Up 14 seconds.",
                Some(CloudInitStage::ModulesFinal),
            ),
            (
                "Cloud-init v. 24.1.3 finished at Tue, 01 Dec 2026 10:09:10 +0000. Datasource DataSourceHetzner.  Up 554.32 seconds",
                Some(CloudInitStage::Finished),
            ),
            ("Cloud-init v. 24.1.3 running 'single' at …", None),
            ("ci-info: ++++++++++++++++Net device info+++++++++++++++", None),
            ("echo \"Cloud-init v. 1 running 'init'\"", None),
            ("", None),
            ("Cloud-init v. ", None),
            ("Cloud-init v. 1 running '", None),
        ];
        for (line, want) in cases {
            assert_eq!(CloudInitStage::from_log_line(line), want, "{line}");
        }
        let p = CloudInitProgress::from(CloudInitStage::ModulesFinal);
        assert_eq!((p.done, p.total), (4, 5));
    }

    #[test]
    fn status_json_and_plain_forms() {
        let cases: Vec<(&str, Option<u32>, CloudInitStatus)> = vec![
            (
                r#"{"status":"running","errors":[]}"#,
                Some(0),
                CloudInitStatus::Running("running".into()),
            ),
            (
                r#"{"status":"not started"}"#,
                Some(0),
                CloudInitStatus::Running("not started".into()),
            ),
            (
                r#"{"status":"done","errors":[]}"#,
                Some(0),
                CloudInitStatus::Done { recoverable: vec![] },
            ),
            (
                r#"{"status":"done","extended_status":"degraded done","recoverable_errors":{"WARNING":["w1"]}}"#,
                Some(2),
                CloudInitStatus::Done {
                    recoverable: vec!["WARNING: w1".into()],
                },
            ),
            (
                r#"{"status":"error","errors":["('scripts_user', RuntimeError('Runparts: 1 failures'))"]}"#,
                Some(1),
                CloudInitStatus::Error {
                    errors: vec!["('scripts_user', RuntimeError('Runparts: 1 failures'))".into()],
                },
            ),
            (
                r#"{"status":"error"}"#,
                Some(1),
                CloudInitStatus::Error {
                    errors: vec!["cloud-init status is error (exit 1)".into()],
                },
            ),
            (
                "status: done\n",
                Some(0),
                CloudInitStatus::Done { recoverable: vec![] },
            ),
            (
                "\nstatus: running\n",
                Some(0),
                CloudInitStatus::Running("running".into()),
            ),
            (
                "status: disabled",
                Some(0),
                CloudInitStatus::Error {
                    errors: vec!["cloud-init is disabled on this server".into()],
                },
            ),
            (
                "sh: cloud-init: not found",
                Some(127),
                CloudInitStatus::Unknown("unrecognised status \"\" (exit 127)".into()),
            ),
            (
                "[1,2]",
                None,
                CloudInitStatus::Unknown("unrecognised status \"\" (exit none)".into()),
            ),
        ];
        for (out, exit, want) in cases {
            assert_eq!(parse_status(out, exit), want, "{out}");
        }
    }

    #[test]
    fn splitter_holds_partial_lines_and_survives_bad_utf8() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"one\r\ntw"), vec!["one".to_string()]);
        assert!(s.push(b"o").is_empty());
        assert_eq!(
            s.push(b"\n\nthree \xff\n"),
            vec!["two".to_string(), "".into(), "three \u{fffd}".into()]
        );
        assert_eq!(s.push(b"tail"), Vec::<String>::new());
        assert_eq!(s.finish(), Some("tail".into()));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn tracker_reports_stages_forward_only_and_keeps_last_lines() {
        let mut events = Vec::new();
        let mut sink = |e: CloudInitEvent| events.push(e);
        let mut t = Tracker {
            stage: None,
            last: VecDeque::new(),
            lines: 0,
        };
        t.observe("Cloud-init v. 1 running 'init' at x".into(), &mut sink);
        // A late init-local banner does not move progress backwards.
        t.observe("Cloud-init v. 1 running 'init-local' at x".into(), &mut sink);
        for i in 0..40 {
            t.observe(format!("line {i}"), &mut sink);
        }
        let stages: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                CloudInitEvent::Progress { progress } => Some(progress.stage),
                _ => None,
            })
            .collect();
        assert_eq!(stages, vec![CloudInitStage::Init]);
        assert_eq!(t.lines, 42);
        let last = t.last_lines();
        assert_eq!(last.len(), LAST_LINES);
        assert_eq!(last.last().unwrap(), "line 39");
    }
}
