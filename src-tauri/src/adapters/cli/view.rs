//! How a run's events are shown: JSON lines on stdout, or one progress bar
//! per phase with the log lines (info and above) on stderr.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::events::{EventKind, LogLevel, Phase, ProvisionEvent};
use crate::engine::provision::phases;

/// Writes one line to stdout; a closed stdout (`| head`) is not an error worth a panic.
pub fn out(line: &str) {
    let mut s = std::io::stdout().lock();
    let _ = writeln!(s, "{line}");
    let _ = s.flush();
}

/// Writes one line to stderr, ignoring a closed stderr.
pub fn err(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// An engine answer as `--json` prints it: the JSON the bridge sends for it
/// (through `serde_json::Value`, so object keys come out sorted), compact or
/// pretty.
pub fn answer_json<T: serde::Serialize>(answer: &T, pretty: bool) -> Result<String, String> {
    let v = serde_json::to_value(answer).map_err(|e| format!("answer not serialisable: {e}"))?;
    Ok(if pretty {
        serde_json::to_string_pretty(&v).unwrap_or_default()
    } else {
        v.to_string()
    })
}

fn level(l: LogLevel) -> &'static str {
    match l {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

/// One event as a line of text (the `events` listing without --json).
pub fn text_line(e: &ProvisionEvent) -> String {
    let what = match &e.kind {
        EventKind::PhaseStarted => format!("started: {}", phases::title(e.phase)),
        EventKind::Progress { done, total, label } => format!("progress {done}/{total} {label}"),
        EventKind::Resource {
            address,
            action,
            state,
            elapsed_s,
        } => format!("resource {address} {action} {state} ({elapsed_s:.1}s)"),
        EventKind::Component { name, state, message } if message.is_empty() => {
            format!("component {name} {state}")
        }
        EventKind::Component { name, state, message } => format!("component {name} {state}: {message}"),
        EventKind::Log {
            level: l,
            source,
            line,
        } => format!("{} [{source}] {line}", level(*l)),
        EventKind::PhaseFinished { duration_s } => format!("finished in {duration_s:.1}s"),
        EventKind::PhaseFailed { error, hint } => format!("FAILED: {error} (hint: {hint})"),
        EventKind::PhaseCancelled => "cancelled".to_owned(),
        EventKind::Region { state, detail } => format!("region {state}: {detail}"),
        EventKind::Done { console_url } => format!("done: {console_url}"),
    };
    let phase = serde_json::to_value(e.phase)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match &e.region {
        Some(r) => format!("{:>5} {} {:<14} [{r}] {what}", e.seq, e.at, phase),
        None => format!("{:>5} {} {:<14} {what}", e.seq, e.at, phase),
    }
}

/// Where a followed run's events go.
pub enum View {
    Json,
    Text(Box<Bars>),
}

impl View {
    pub fn new(json: bool) -> View {
        if json {
            View::Json
        } else {
            View::Text(Box::new(Bars::new(ProgressDrawTarget::stderr())))
        }
    }

    pub fn show(&mut self, e: &ProvisionEvent) {
        match self {
            View::Json => match serde_json::to_string(e) {
                Ok(s) => out(&s),
                Err(x) => err(&format!("event {} not serialisable: {x}", e.seq)),
            },
            View::Text(b) => b.show(e),
        }
    }

    /// A JSON-only line of the stream (its header, its summary): see docs/cli.md.
    pub fn json_line(&self, v: &serde_json::Value) {
        if let View::Json = self {
            out(&v.to_string());
        }
    }

    /// A message for the operator (stderr; above the bars when they are drawn).
    pub fn note(&self, line: &str) {
        match self {
            View::Json => err(line),
            View::Text(b) => b.println(line),
        }
    }

    /// Leaves the bars as they are and stops drawing them.
    pub fn finish(&mut self) {
        if let View::Text(b) = self {
            b.finish();
        }
    }
}

/// One progress bar per phase on stderr, and in a multi-region run one per
/// region under it (the regions of a cluster phase side by side, one line
/// each). When stderr is not a terminal the bars are hidden and the same
/// story is told as plain lines.
pub struct Bars {
    multi: MultiProgress,
    bars: HashMap<(PhaseKey, String), ProgressBar>,
    /// The bottom bar of each phase (its last region's), where the next region goes.
    last: HashMap<PhaseKey, ProgressBar>,
}

/// `Phase` is not `Hash`; its position in the run's phases is a stable key.
type PhaseKey = u8;

fn key(p: Phase) -> PhaseKey {
    phases::PHASES
        .iter()
        .position(|x| *x == p)
        .map(|i| i as u8)
        .unwrap_or(u8::MAX)
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:<32} {msg:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:<32} [{bar:24.cyan/blue}] {pos}/{len} {msg:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn end_style(mark: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!("{mark} {{prefix:<32}} {{msg}}"))
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Bars {
    pub fn new(target: ProgressDrawTarget) -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: HashMap::new(),
            last: HashMap::new(),
        }
    }

    fn hidden(&self) -> bool {
        self.multi.is_hidden()
    }

    pub fn println(&self, line: &str) {
        if self.hidden() || self.multi.println(line).is_err() {
            err(line);
        }
    }

    /// The bar of a phase, or of one region in it (placed after the phase's
    /// bar and its other regions).
    fn bar_of(&mut self, phase: Phase, region: Option<&str>) -> ProgressBar {
        let k = (key(phase), region.unwrap_or_default().to_owned());
        if let Some(b) = self.bars.get(&k) {
            return b.clone();
        }
        let b = ProgressBar::new_spinner();
        let b = match region {
            None => self.multi.add(b),
            Some(_) => {
                let after = match self.last.get(&k.0) {
                    Some(b) => b.clone(),
                    None => self.bar_of(phase, None),
                };
                self.multi.insert_after(&after, b)
            }
        };
        self.last.insert(k.0, b.clone());
        b.set_style(spinner_style());
        b.set_prefix(match region {
            None => phases::title(phase).to_owned(),
            Some(r) => format!("  {r}"),
        });
        b.enable_steady_tick(Duration::from_millis(120));
        self.bars.insert(k, b.clone());
        b
    }

    fn bar(&mut self, phase: Phase) -> ProgressBar {
        self.bar_of(phase, None)
    }

    pub fn show(&mut self, e: &ProvisionEvent) {
        let hidden = self.hidden();
        let title = phases::title(e.phase);
        // A region's events move its own bar; the rest is the same for all.
        let region = e.region.as_deref();
        match &e.kind {
            EventKind::PhaseStarted => {
                self.bar(e.phase);
                if hidden {
                    err(&format!("==> {title}"));
                }
            }
            EventKind::Progress { done, total, label } => {
                let b = self.bar_of(e.phase, region);
                if b.length() != Some(*total) {
                    b.set_style(bar_style());
                    b.set_length(*total);
                }
                b.set_position(*done);
                b.set_message(label.clone());
            }
            EventKind::Resource { address, state, .. } => {
                self.bar(e.phase).set_message(format!("{address}: {state}"));
            }
            EventKind::Component { name, state, message } => {
                self.bar_of(e.phase, region)
                    .set_message(format!("{name}: {state}"));
                if state == "failed" || (!message.is_empty() && state != "installing") {
                    self.println(&format!("    component {name} {state}: {message}"));
                }
            }
            EventKind::Log {
                level: l,
                source,
                line,
            } => {
                if *l != LogLevel::Debug {
                    self.println(&format!("    {:<5} [{source}] {line}", level(*l)));
                }
            }
            EventKind::PhaseFinished { duration_s } => {
                let b = self.bar(e.phase);
                b.set_style(end_style("✓"));
                b.finish_with_message(format!("{duration_s:.1}s"));
                if hidden {
                    err(&format!("    {title}: done in {duration_s:.1}s"));
                }
            }
            EventKind::PhaseFailed { error, .. } => {
                let b = self.bar(e.phase);
                b.set_style(end_style("✗"));
                b.abandon_with_message(error.clone());
                if hidden {
                    err(&format!("    {title}: failed"));
                }
            }
            EventKind::Region { state, detail } => {
                self.region_state(e.phase, region.unwrap_or_default(), state, detail)
            }
            EventKind::PhaseCancelled => {
                let b = self.bar(e.phase);
                b.set_style(end_style("■"));
                b.abandon_with_message("cancelled");
                if hidden {
                    err(&format!("    {title}: cancelled"));
                }
            }
            EventKind::Done { console_url } => {
                if hidden {
                    err(&format!("==> Done: {console_url}"));
                }
            }
        }
    }

    /// Where one region stands in a phase: its bar ends as the region did.
    fn region_state(&mut self, phase: Phase, region: &str, state: &str, detail: &str) {
        let b = self.bar_of(phase, Some(region));
        match state {
            "done" => {
                b.set_style(end_style("✓"));
                b.finish_with_message(detail.to_owned());
            }
            "failed" => {
                b.set_style(end_style("✗"));
                b.abandon_with_message(detail.to_owned());
            }
            "stopped" => {
                b.set_style(end_style("■"));
                b.abandon_with_message(detail.to_owned());
            }
            _ => b.set_message(detail.to_owned()),
        }
        if self.hidden() {
            err(&format!(
                "    {} [{region}]: {state}: {detail}",
                phases::title(phase)
            ));
        }
    }

    pub fn finish(&mut self) {
        for b in self.bars.values() {
            if !b.is_finished() {
                b.abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, phase: Phase, kind: EventKind) -> ProvisionEvent {
        ProvisionEvent {
            region: None,
            deployment_id: "d-1".into(),
            seq,
            at: "2026-11-22T00:00:00Z".into(),
            phase,
            kind,
        }
    }

    #[test]
    fn text_lines_name_seq_phase_and_what_happened() {
        let l = text_line(&ev(
            7,
            Phase::TofuApply,
            EventKind::PhaseFailed {
                error: "boom".into(),
                hint: "Resume".into(),
            },
        ));
        assert!(l.starts_with("    7 2026-11-22T00:00:00Z tofu_apply"), "{l}");
        assert!(l.ends_with("FAILED: boom (hint: Resume)"), "{l}");
    }

    #[test]
    fn one_bar_per_phase_follows_progress_and_finishes() {
        let mut b = Bars::new(ProgressDrawTarget::hidden());
        b.show(&ev(1, Phase::Preflight, EventKind::PhaseStarted));
        b.show(&ev(
            2,
            Phase::Preflight,
            EventKind::Progress {
                done: 2,
                total: 5,
                label: "checks".into(),
            },
        ));
        b.show(&ev(3, Phase::TofuInit, EventKind::PhaseStarted));
        assert_eq!(b.bars.len(), 2);
        let pre = b.bars[&(key(Phase::Preflight), String::new())].clone();
        assert_eq!((pre.position(), pre.length()), (2, Some(5)));
        b.show(&ev(
            4,
            Phase::Preflight,
            EventKind::PhaseFinished { duration_s: 1.0 },
        ));
        assert!(pre.is_finished());
        b.finish();
        assert!(b.bars.values().all(|x| x.is_finished()));
    }

    #[test]
    fn each_region_of_a_phase_has_its_own_bar_and_ends_as_it_did() {
        let mut b = Bars::new(ProgressDrawTarget::hidden());
        let at = |seq, region: &str, kind| ProvisionEvent {
            region: Some(region.to_owned()),
            ..ev(seq, Phase::CloudInit, kind)
        };
        let state = |s: &str| EventKind::Region {
            state: s.into(),
            detail: format!("{s} detail"),
        };
        b.show(&ev(1, Phase::CloudInit, EventKind::PhaseStarted));
        b.show(&at(2, "fsn1", state("running")));
        b.show(&at(3, "hel1", state("running")));
        b.show(&at(
            4,
            "hel1",
            EventKind::Progress {
                done: 3,
                total: 23,
                label: "line".into(),
            },
        ));
        assert_eq!(b.bars.len(), 3, "the phase and one bar per region");
        let hel = b.bars[&(key(Phase::CloudInit), "hel1".to_owned())].clone();
        assert_eq!((hel.position(), hel.length()), (3, Some(23)));
        b.show(&at(5, "hel1", state("failed")));
        b.show(&at(6, "fsn1", state("stopped")));
        assert!(hel.is_finished(), "a failed region's bar is left as it ended");
        assert_eq!(hel.message(), "failed detail");
        let fsn = b.bars[&(key(Phase::CloudInit), "fsn1".to_owned())].clone();
        assert_eq!(fsn.message(), "stopped detail");
        assert_eq!(
            text_line(&at(7, "hel1", state("done"))),
            "    7 2026-11-22T00:00:00Z cloud_init     [hel1] region done: done detail"
        );
    }
}
