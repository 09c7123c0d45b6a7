//! `deployments` (the list) and `events <id>` (a run's recorded events,
//! optionally followed until the run ends).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::run::{Signals, events_since, record};
use super::view::{answer_json, err, out, text_line};
use super::{EXIT_CANCELLED, EXIT_FAILED};
use crate::engine::Engine;
use crate::engine::store::deployments::{DeploymentSummary, Deployments, RunStatus, skipped_text};

/// How often `events --follow` reads the log and the record.
const FOLLOW_POLL: Duration = Duration::from_millis(250);
/// An `interrupted` run whose log stays quiet this long is not going on anywhere.
const QUIET_INTERRUPTED: Duration = Duration::from_secs(15);

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".into())
}

/// The table: one row per deployment, newest first.
pub fn table(list: &[DeploymentSummary]) -> Vec<String> {
    let rows: Vec<[String; 6]> = list
        .iter()
        .map(|d| {
            [
                d.id.clone(),
                if d.fqdn.is_empty() {
                    "-".into()
                } else {
                    d.fqdn.clone()
                },
                if d.demo { "yes".into() } else { "no".into() },
                d.status.map(|s| word(&s)).unwrap_or_else(|| "unreadable".into()),
                d.phase.map(|p| word(&p)).unwrap_or_else(|| "-".into()),
                if d.created_at.is_empty() {
                    "-".into()
                } else {
                    d.created_at.clone()
                },
            ]
        })
        .collect();
    let head = ["ID", "FQDN", "DEMO", "STATUS", "PHASE", "STARTED"].map(String::from);
    let mut width = head.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    std::iter::once(&head)
        .chain(rows.iter())
        .map(|r| {
            let cells: Vec<String> = r.iter().zip(width).map(|(c, w)| format!("{c:<w$}")).collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

pub async fn deployments(engine: &Engine, json: bool) -> ExitCode {
    let store = Deployments::new(&engine.paths().data_dir);
    // A broken data dir is an error with its path, never "no deployments".
    if let Err(e) = store.try_list() {
        err(&format!("{e}"));
        return ExitCode::from(EXIT_FAILED);
    }
    let list = match engine.deployments_list().await {
        Ok(l) => l,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if json {
        return match answer_json(&list, false) {
            Ok(s) => {
                out(&s);
                ExitCode::SUCCESS
            }
            Err(e) => {
                err(&e);
                ExitCode::from(EXIT_FAILED)
            }
        };
    }
    if list.is_empty() {
        out("no deployments");
        return ExitCode::SUCCESS;
    }
    for l in table(&list) {
        out(&l);
    }
    for p in list.iter().filter_map(|d| d.problem.as_deref()) {
        out(&format!("! {p}"));
    }
    for d in list.iter().filter(|d| d.problem.is_none()) {
        match store.unreadable_event_lines(&d.id) {
            Ok(0) => {}
            Ok(n) => out(&format!("! events.jsonl of {}: {}", d.id, skipped_text(n))),
            Err(e) => out(&format!("! events.jsonl of {} cannot be read: {e}", d.id)),
        }
    }
    ExitCode::SUCCESS
}

fn ended(s: RunStatus) -> bool {
    !matches!(s, RunStatus::Running | RunStatus::Wiping | RunStatus::Interrupted)
}

/// `events <id> [--since SEQ] [--follow]`.
pub async fn events(engine: &Engine, id: &str, since: u64, follow: bool, json: bool) -> ExitCode {
    // An unknown id is an error, not an empty list.
    if let Err(e) = record(engine, id).await {
        err(&e.message);
        return ExitCode::from(EXIT_FAILED);
    }
    // Said once on stderr, so the events on stdout stay one per line.
    let store = Deployments::new(&engine.paths().data_dir);
    if let Ok(n @ 1..) = store.unreadable_event_lines(id) {
        err(&format!(
            "! {}: {}",
            store.events_path(id).display(),
            skipped_text(n)
        ));
    }
    let mut signals = Signals::new();
    let mut last = since;
    let mut quiet_since = Instant::now();
    let mut ending = false;
    loop {
        let evs = match events_since(engine, id, last).await {
            Ok(v) => v,
            Err(e) => {
                err(&e.message);
                return ExitCode::from(EXIT_FAILED);
            }
        };
        if !evs.is_empty() {
            quiet_since = Instant::now();
        }
        for e in &evs {
            last = e.seq;
            if json {
                match serde_json::to_string(e) {
                    Ok(s) => out(&s),
                    Err(x) => err(&format!("event {} not serialisable: {x}", e.seq)),
                }
            } else {
                out(&text_line(e));
            }
        }
        if !follow || ending {
            return ExitCode::SUCCESS;
        }
        let rec = match record(engine, id).await {
            Ok(r) => r,
            Err(e) => {
                err(&e.message);
                return ExitCode::from(EXIT_FAILED);
            }
        };
        if ended(rec.status) {
            // One more read: events appended before the record changed.
            ending = true;
            continue;
        }
        if rec.status == RunStatus::Interrupted && quiet_since.elapsed() >= QUIET_INTERRUPTED {
            err(&format!(
                "The run is interrupted and nothing is running it; \
                 `catalyst-provisioner resume {id}` continues it."
            ));
            return ExitCode::SUCCESS;
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_POLL) => {}
            _ = signals.next() => return ExitCode::from(EXIT_CANCELLED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::Phase;

    #[test]
    fn the_table_has_a_header_and_aligned_columns() {
        let d = DeploymentSummary {
            id: "d-20261122-231500-4f2a".into(),
            fqdn: "omantel.omani.works".into(),
            demo: true,
            status: Some(RunStatus::Done),
            phase: Some(Phase::TofuApply),
            created_at: "2026-11-22T23:15:00Z".into(),
            updated_at: String::new(),
            problem: None,
            eur_per_hour: None,
        };
        let broken = DeploymentSummary {
            id: "d-broken".into(),
            fqdn: String::new(),
            demo: false,
            status: None,
            phase: None,
            created_at: String::new(),
            updated_at: String::new(),
            problem: Some("x".into()),
            eur_per_hour: None,
        };
        let t = table(&[d, broken]);
        assert_eq!(t.len(), 3);
        assert!(t[0].starts_with("ID  ") && t[0].ends_with("STARTED"), "{}", t[0]);
        assert_eq!(t[0].find("FQDN"), t[1].find("omantel"));
        assert!(t[1].contains("yes") && t[1].contains("done") && t[1].contains("tofu_apply"));
        assert!(t[2].contains("unreadable"), "{}", t[2]);
    }
}
