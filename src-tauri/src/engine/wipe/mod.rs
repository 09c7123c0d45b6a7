//! Wipe: remove everything a deployment created and prove the cloud is empty
//! before local state is dropped. The operator confirms by typing the FQDN.
//! Demo deployments are wiped in the simulated cloud; a real wipe runs tofu
//! destroy, the purge by label and name, the verification sweep and the PDM
//! release (see `live` once it lands), and keeps the state when not proven empty.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::engine::events::{EventBus, EventKind, LogLevel, Phase};
use crate::engine::store::deployments::{Deployments, RunStatus, now_rfc3339};
use crate::engine::store::write_atomic;
use crate::engine::{ApiError, Engine};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WipeArgs {
    pub id: String,
    /// Must equal the deployment's FQDN.
    pub confirm: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct WipeReport {
    pub deleted: Vec<String>,
    pub retried: Vec<String>,
    /// What could not be removed, with why.
    pub left: Vec<String>,
    /// True only when the final sweep found nothing left.
    pub clean: bool,
    pub dns_released: bool,
    pub finished_at: String,
}

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

impl Engine {
    pub async fn deployment_wipe(&self, args: WipeArgs) -> Result<WipeReport, ApiError> {
        let store = self.deployments();
        let mut record = store.load(&args.id).map_err(|e| {
            ApiError::new(
                "not_found",
                format!("There is no readable deployment \"{}\" ({e}).", args.id),
            )
        })?;
        if args.confirm.trim() != record.fqdn {
            return Err(ApiError {
                code: "confirm_mismatch".into(),
                message: format!("Type {} exactly to confirm the wipe.", record.fqdn),
                field: Some("confirm".into()),
            });
        }
        if self
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&record.id)
        {
            return Err(ApiError::new(
                "run_in_progress",
                "Cancel the run first; a wipe cannot race a running apply.",
            ));
        }
        if record.demo.is_none() {
            return Err(ApiError::new(
                "live_wipe_unavailable",
                "Wiping a real deployment is not available in this build; nothing was changed. Remove its resources in the Hetzner console (label catalyst.openova.io/sovereign).",
            ));
        }
        record.status = RunStatus::Wiping;
        record.updated_at = now_rfc3339();
        store
            .save(&record)
            .map_err(|e| ApiError::new("record_write_failed", e.to_string()))?;
        let mut log = store
            .open_log(&record.id)
            .map_err(|e| ApiError::new("events_unwritable", e.to_string()))?;
        let bus: EventBus = self.bus.clone();
        let mut emit = |kind: EventKind| {
            if let Ok(ev) = log.append(Phase::Wipe, kind) {
                bus.publish(ev);
            }
        };
        emit(EventKind::PhaseStarted);
        let mut report = WipeReport::default();
        // Dependents first, like the real purge order (servers, LBs, firewalls, networks, keys).
        let mut resources = created_resources(&store, &record.id);
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
        let bytes = serde_json::to_vec_pretty(&report).unwrap_or_default();
        write_atomic(&store.dir(&record.id).join("wipe-report.json"), &bytes)
            .map_err(|e| ApiError::new("report_write_failed", e.to_string()))?;
        record.status = RunStatus::Wiped;
        record.updated_at = now_rfc3339();
        store
            .save(&record)
            .map_err(|e| ApiError::new("record_write_failed", e.to_string()))?;
        Ok(report)
    }
}
