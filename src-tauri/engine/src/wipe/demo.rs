//! The wipe of a demo deployment: the simulated cloud forgets what the run
//! created, with the same events and report as a real wipe.

use crate::error::ErrorCode;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::ApiError;
use crate::events::{EventKind, LogLevel, Phase};
use crate::store::deployments::{DeploymentRecord, Deployments, RunStatus, now_rfc3339};

use super::WipeEnv;
use super::report::WipeReport;

/// Resources a run created, from its own event log (last state per address).
fn created_resources(store: &Deployments, id: &str) -> Vec<String> {
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    for e in store.events(id, 0).unwrap_or_default() {
        if let EventKind::Resource {
            address, state: s, ..
        } = e.kind
        {
            state.insert(address, s);
        }
    }
    state
        .into_iter()
        .filter(|(_, s)| s == "created" || s == "creating")
        .map(|(a, _)| a)
        .collect()
}

pub async fn wipe(env: &WipeEnv, mut record: DeploymentRecord) -> Result<WipeReport, ApiError> {
    let store = &env.store;
    let mut log = store
        .open_log(&record.id)
        .map_err(|e| ApiError::new(ErrorCode::EventsUnwritable, e.to_string()))?;
    let bus = env.bus.clone();
    let mut emit = |kind: EventKind| {
        if let Ok(ev) = log.append(Phase::Wipe, kind) {
            bus.publish(ev);
        }
    };
    emit(EventKind::PhaseStarted);
    let mut report = WipeReport::carry_on(None, &now_rfc3339());
    // Dependents first, like the real purge order (servers, LBs, firewalls, networks, keys).
    let mut resources = created_resources(store, &record.id);
    resources.reverse();
    let total = resources.len() as u64;
    for (i, r) in resources.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(40)).await;
        emit(EventKind::Resource {
            address: r.clone(),
            action: "delete".into(),
            state: "destroyed".into(),
            elapsed_s: 0.04,
        });
        emit(EventKind::Progress {
            done: i as u64 + 1,
            total,
            label: r.clone(),
        });
        report.deleted.push(r.clone());
    }
    emit(EventKind::Log {
        level: LogLevel::Info,
        source: "wipe".into(),
        line: format!(
            "Verification sweep: nothing labelled catalyst.openova.io/sovereign={} is left (simulated cloud).",
            record.fqdn
        ),
    });
    report.dns_released = true;
    report.tofu_destroyed = true;
    report.local_cleaned = true;
    emit(EventKind::Log {
        level: LogLevel::Info,
        source: "pdm".into(),
        line: format!("Released {} (simulated pool).", record.fqdn),
    });
    report.clean = true;
    report.finished_at = now_rfc3339();
    emit(EventKind::PhaseFinished {
        duration_s: 0.04 * total as f64,
    });
    let _ = log.sync();
    report
        .save(store, &record.id)
        .map_err(|e| ApiError::new(ErrorCode::ReportWriteFailed, e.to_string()))?;
    record.status = RunStatus::Wiped;
    record.updated_at = now_rfc3339();
    store
        .save(&record)
        .map_err(|e| ApiError::new(ErrorCode::RecordWriteFailed, e.to_string()))?;
    Ok(report)
}
