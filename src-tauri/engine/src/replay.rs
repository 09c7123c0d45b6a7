//! Recorded runs: a deployment's event log exported to a file (versioned
//! JSON lines: one header line, then the events exactly as recorded), read
//! back and replayed at a chosen speed in the window or the CLI. A replay is
//! read-only and in memory: it never becomes a deployment record, never
//! enters the store and never goes on the event bus.

use crate::error::ErrorCode;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Engine;
use super::events::{EventKind, ProvisionEvent};
use super::secrets::redact::redact;
use super::store::deployments::RunStatus;
use crate::error::ApiError;

/// The first line's `format`: what the file is, whatever its name.
pub const FORMAT: &str = "catalyst-provisioner/event-log";
/// Bumped when a reader of the previous version would misread the file.
pub const VERSION: u32 = 1;
/// Replay speeds: ×1 plays the original timings; ×600 plays a 20-minute
/// real run in 2 s.
pub const MIN_SPEED: f64 = 1.0;
pub const MAX_SPEED: f64 = 600.0;
/// Larger files are refused before parsing (a real run is a few MB).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// A recorded pause longer than this (the app was closed, a run resumed the
/// next day) is played as this long, so a replay never sits idle for hours.
pub const IDLE_CAP_S: f64 = 300.0;

/// The header line of an exported event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventLogHeader {
    pub format: String,
    pub version: u32,
    /// When the run was started (RFC 3339 UTC).
    pub recorded_at: String,
    /// When the file was written.
    pub exported_at: String,
    pub fqdn: String,
    /// The version of the app that wrote the file.
    pub app_version: String,
    /// The run used the simulated cloud.
    pub demo: bool,
    /// How the run stood when it was exported.
    pub status: Option<RunStatus>,
    /// How many event lines follow; a shorter file was cut short.
    #[ts(type = "number")]
    pub events: u64,
}

/// A recorded run read back from a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Recording {
    pub header: EventLogHeader,
    pub events: Vec<ProvisionEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReplayArgs {
    /// The file's content (the window and the browser read the file the
    /// operator picked), or
    pub text: Option<String>,
    /// an absolute path to read (CLI, tests).
    pub path: Option<String>,
    /// ×1 (original timings) to ×600; default ×1.
    pub speed: Option<f64>,
}

/// A recording with when to show each event: `offsets_ms[i]` is the time
/// from the start of the replay to event `i`, at `speed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Replay {
    pub header: EventLogHeader,
    pub speed: f64,
    pub events: Vec<ProvisionEvent>,
    #[ts(type = "Array<number>")]
    pub offsets_ms: Vec<u64>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::NotAnEventLog, message)
}

/// Masks anything secret in a text: every value the app registered as a
/// secret, and any private key block. Events never carry secrets by
/// construction; this is the check before a file leaves the app.
pub fn scrub(text: &str) -> String {
    let mut out = redact(text);
    while let Some(start) = out.find("-----BEGIN") {
        let Some(head_end) = out[start..].find("PRIVATE KEY-----") else {
            break;
        };
        let after_head = start + head_end + "PRIVATE KEY-----".len();
        let end = out[after_head..]
            .find("-----END")
            .and_then(|e| {
                let from = after_head + e;
                out[from..]
                    .find("PRIVATE KEY-----")
                    .map(|t| from + t + "PRIVATE KEY-----".len())
            })
            .unwrap_or(out.len());
        out.replace_range(start..end, "[REDACTED PRIVATE KEY]");
    }
    out
}

/// Applies `scrub` to every text of an event; true when anything changed.
pub fn scrub_event(e: &mut ProvisionEvent) -> bool {
    let mut changed = false;
    let mut s = |t: &mut String| {
        let clean = scrub(t);
        if clean != *t {
            *t = clean;
            changed = true;
        }
    };
    if let Some(r) = &mut e.region {
        s(r);
    }
    match &mut e.kind {
        EventKind::PhaseStarted | EventKind::PhaseFinished { .. } | EventKind::PhaseCancelled => {}
        EventKind::Progress { label, .. } => s(label),
        EventKind::Resource {
            address,
            action,
            state,
            ..
        } => {
            s(address);
            s(action);
            s(state);
        }
        EventKind::Component { name, state, message } => {
            s(name);
            s(state);
            s(message);
        }
        EventKind::Region { state, detail } => {
            s(state);
            s(detail);
        }
        EventKind::Log { source, line, .. } => {
            s(source);
            s(line);
        }
        EventKind::PhaseFailed { error, hint } => {
            s(error);
            s(hint);
        }
        EventKind::Done { console_url } => s(console_url),
    }
    changed
}

/// The file: the header line, then one event per line. Returns the text and
/// how many events had something masked.
pub fn render(header: &EventLogHeader, events: &[ProvisionEvent]) -> Result<(String, u64), ApiError> {
    let ser = |e: serde_json::Error| {
        ApiError::new(
            ErrorCode::Internal,
            format!("the event log cannot be written: {e}"),
        )
    };
    let mut out = serde_json::to_string(header).map_err(ser)?;
    out.push('\n');
    let mut masked = 0;
    for e in events {
        let mut e = e.clone();
        if scrub_event(&mut e) {
            masked += 1;
        }
        out.push_str(&serde_json::to_string(&e).map_err(ser)?);
        out.push('\n');
    }
    Ok((out, masked))
}

/// Reads an exported event log, refusing anything that is not one whole
/// file of a version this app knows.
pub fn parse(text: &str) -> Result<Recording, ApiError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(bad(format!(
            "The file is larger than {} MB; an event log is a few MB.",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let not_ours = || {
        bad(
            "This file is not a Catalyst event log: its first line is not the header an export writes. Export one from a deployment (\"Export event log\", or `catalyst-provisioner events <id> --export FILE`).",
        )
    };
    let (_, first) = lines.next().ok_or_else(not_ours)?;
    let head: serde_json::Value = serde_json::from_str(first).map_err(|_| not_ours())?;
    if head.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(not_ours());
    }
    let version = head.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > u64::from(VERSION) {
        return Err(bad(format!(
            "This event log was written by a newer app (format version {version}); this one reads version {VERSION}. Update the app to replay it."
        )));
    }
    let header: EventLogHeader = serde_json::from_value(head)
        .map_err(|e| bad(format!("The header of the event log is damaged: {e}")))?;
    let mut events: Vec<ProvisionEvent> = Vec::new();
    for (i, line) in lines {
        let e: ProvisionEvent = serde_json::from_str(line)
            .map_err(|err| bad(format!("Line {} of the event log is not an event: {err}", i + 1)))?;
        if let Some(prev) = events.last()
            && e.seq <= prev.seq
        {
            return Err(bad(format!(
                "Line {} of the event log is out of order (seq {} after {}); the file was edited or joined from two logs.",
                i + 1,
                e.seq,
                prev.seq
            )));
        }
        events.push(e);
    }
    if events.len() as u64 != header.events {
        return Err(bad(format!(
            "The event log is incomplete: its header announces {} events, the file holds {}.",
            header.events,
            events.len()
        )));
    }
    Ok(Recording { header, events })
}

fn at_seconds(e: &ProvisionEvent) -> Option<f64> {
    let t = time::OffsetDateTime::parse(&e.at, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

/// When to show each event: the recorded gap to the previous event divided
/// by `speed` (a gap that cannot be read or runs backwards counts as 0; an
/// idle gap is capped at `IDLE_CAP_S`).
pub fn offsets_ms(events: &[ProvisionEvent], speed: f64) -> Vec<u64> {
    let speed = speed.clamp(MIN_SPEED, MAX_SPEED);
    let mut out = Vec::with_capacity(events.len());
    let mut total = 0.0_f64;
    let mut prev: Option<f64> = None;
    for e in events {
        let at = at_seconds(e);
        if let (Some(a), Some(p)) = (at, prev) {
            total += (a - p).clamp(0.0, IDLE_CAP_S) / speed;
        }
        if at.is_some() {
            prev = at;
        }
        out.push((total * 1000.0).round() as u64);
    }
    out
}

/// Checks a speed from any adapter.
pub fn check_speed(speed: Option<f64>) -> Result<f64, ApiError> {
    let s = speed.unwrap_or(1.0);
    if s.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&s) {
        Ok(s)
    } else {
        Err(ApiError {
            code: ErrorCode::InvalidSpeed,
            message: format!("The replay speed is a factor from {MIN_SPEED} to {MAX_SPEED}."),
            field: Some("speed".into()),
        })
    }
}

/// Reads an event log file (CLI, tests): its size is checked before reading.
pub fn read_file(path: &Path) -> Result<Recording, ApiError> {
    let cannot = |e: std::io::Error| {
        ApiError::new(
            ErrorCode::FileUnreadable,
            format!("{} cannot be read: {e}", path.display()),
        )
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(ApiError::new(
            ErrorCode::FileUnreadable,
            format!("{} is a folder.", path.display()),
        ));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(bad(format!(
            "{} is larger than {} MB; an event log is a few MB.",
            path.display(),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    let text = String::from_utf8(bytes).map_err(|_| bad(format!("{} is not text.", path.display())))?;
    parse(&text)
}

impl Engine {
    /// Reads a recording for the window's replay page. Nothing is stored:
    /// the page plays it from this answer.
    pub async fn replay_load(&self, args: ReplayArgs) -> Result<Replay, ApiError> {
        let speed = check_speed(args.speed)?;
        let rec = match (args.text, args.path) {
            (Some(text), None) => parse(&text)?,
            (None, Some(path)) => {
                let p = Path::new(&path);
                if !p.is_absolute() {
                    return Err(ApiError::new(
                        ErrorCode::RelativePath,
                        format!("Give an absolute path (\"{path}\" is relative)."),
                    ));
                }
                let p = p.to_owned();
                tokio::task::spawn_blocking(move || read_file(&p))
                    .await
                    .map_err(|e| {
                        ApiError::new(ErrorCode::Internal, format!("reading the file stopped: {e}"))
                    })??
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgs,
                    "Give the event log's content or its path, not both and not neither.",
                ));
            }
        };
        let offsets_ms = offsets_ms(&rec.events, speed);
        Ok(Replay {
            header: rec.header,
            speed,
            events: rec.events,
            offsets_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{LogLevel, Phase};

    fn ev(seq: u64, at: &str, kind: EventKind) -> ProvisionEvent {
        ProvisionEvent {
            deployment_id: "d-1".into(),
            seq,
            at: at.into(),
            phase: Phase::Preflight,
            region: None,
            kind,
        }
    }

    fn header(n: u64) -> EventLogHeader {
        EventLogHeader {
            format: FORMAT.into(),
            version: VERSION,
            recorded_at: "2026-11-22T10:00:00Z".into(),
            exported_at: "2026-11-22T11:00:00Z".into(),
            fqdn: "a.omani.works".into(),
            app_version: "0.1.0".into(),
            demo: true,
            status: Some(RunStatus::Done),
            events: n,
        }
    }

    fn sample() -> Vec<ProvisionEvent> {
        vec![
            ev(1, "2026-11-22T10:00:00Z", EventKind::PhaseStarted),
            ev(
                2,
                "2026-11-22T10:00:01.5Z",
                EventKind::Log {
                    level: LogLevel::Info,
                    source: "app".into(),
                    line: "hello".into(),
                },
            ),
            ev(
                3,
                "2026-11-22T10:00:04Z",
                EventKind::PhaseFinished { duration_s: 4.0 },
            ),
        ]
    }

    #[test]
    fn render_then_parse_gives_the_same_events() {
        let evs = sample();
        let (text, masked) = render(&header(3), &evs).unwrap();
        assert_eq!(masked, 0);
        assert_eq!(text.lines().count(), 4);
        let rec = parse(&text).unwrap();
        assert_eq!(rec.events, evs);
        assert_eq!(rec.header, header(3));
    }

    #[test]
    fn offsets_follow_the_recorded_gaps_divided_by_speed() {
        let evs = sample();
        assert_eq!(offsets_ms(&evs, 1.0), vec![0, 1500, 4000]);
        assert_eq!(offsets_ms(&evs, 10.0), vec![0, 150, 400]);
        // A day-long pause is played as the idle cap; a backwards clock as 0.
        let mut long = sample();
        long[2].at = "2026-11-23T10:00:00Z".into();
        long[1].at = "garbage".into();
        assert_eq!(offsets_ms(&long, 1.0), vec![0, 0, 300_000]);
        let mut back = sample();
        back[1].at = "2026-11-22T09:00:00Z".into();
        assert_eq!(offsets_ms(&back, 1.0)[1], 0);
    }

    #[test]
    fn foreign_damaged_newer_and_short_files_are_refused_with_the_reason() {
        let (text, _) = render(&header(3), &sample()).unwrap();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "not a Catalyst event log"),
            ("{\"deployment_id\":\"x\"}\n".into(), "not a Catalyst event log"),
            (text.replace("\"version\":1", "\"version\":7"), "format version 7"),
            (
                text.lines().take(3).collect::<Vec<_>>().join("\n"),
                "announces 3 events, the file holds 2",
            ),
            (text.replacen("\"seq\":2", "\"seq\":9", 1), "out of order"),
            (format!("{text}{{oops\n"), "Line 5"),
        ];
        for (t, want) in cases {
            let e = parse(&t).unwrap_err();
            assert_eq!(e.code, "not_an_event_log");
            assert!(e.message.contains(want), "{want}: {}", e.message);
        }
        assert!(check_speed(Some(0.5)).is_err());
        assert!(check_speed(Some(f64::NAN)).is_err());
        assert_eq!(check_speed(None).unwrap(), 1.0);
    }

    #[test]
    fn registered_secrets_and_private_keys_are_masked_on_export() {
        let canary = "canary-replay-7f3a9c2e51d04b";
        crate::secrets::redact::register_secret(canary);
        let mut evs = sample();
        evs[1].kind = EventKind::Log {
            level: LogLevel::Info,
            source: "tofu".into(),
            line: format!(
                "token {canary} and -----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY----- end"
            ),
        };
        let (text, masked) = render(&header(3), &evs).unwrap();
        assert_eq!(masked, 1);
        assert!(!text.contains(canary), "{text}");
        assert!(!text.contains("b3Blbn"), "{text}");
        assert!(text.contains("[REDACTED PRIVATE KEY] end"), "{text}");
        // Still a valid log.
        assert_eq!(parse(&text).unwrap().events.len(), 3);
    }
}
