//! The real wipe, in order: the run's watchers are already stopped (the
//! engine cancels a run before it gets here) → `tofu destroy` against the
//! deployment's own state (a failure is recorded, the purge goes on) → purge
//! by label → purge by name and SSH key comment → the verification sweep →
//! PDM release → local cleanup, only when the sweep proved the cloud empty.
//! Every step is an event on the deployment's stream (phase `wipe`).

use crate::error::ErrorCode;
use std::time::Instant;

use tokio::sync::watch;

use crate::error::ApiError;
use crate::events::{EventKind, LogLevel, Phase};
use crate::provision::context::RunCtx;
use crate::provision::live::LiveCloud;
use crate::store::deployments::{DeploymentRecord, Failure, RunStatus, now_rfc3339};
use crate::tofu;
use crate::tofu::runner::CancelLevel;

use super::WipeEnv;
use super::purge::{Purger, Timings};
use super::report::WipeReport;
use super::sweep;

const STEPS: u64 = 6;

pub async fn wipe(env: &WipeEnv, record: DeploymentRecord) -> Result<WipeReport, ApiError> {
    let started = Instant::now();
    let log = env
        .store
        .open_log(&record.id)
        .map_err(|e| ApiError::new(ErrorCode::EventsUnwritable, e.to_string()))?;
    // Nothing cancels a wipe: stopping half-way only leaves more to clean up.
    let (_keep, never) = watch::channel(CancelLevel::None);
    let mut ctx = RunCtx::new(env.store.clone(), record, log, env.bus.clone(), never);
    ctx.phase = Phase::Wipe;
    let mut cloud = LiveCloud::new(env.settings.clone(), env.secrets.clone(), env.data_dir.clone());
    let previous = WipeReport::load(&env.store, &ctx.record.id);
    let mut report = WipeReport::carry_on(previous, &now_rfc3339());
    let fqdn = ctx.record.fqdn.clone();
    let id = ctx.record.id.clone();

    ctx.emit(EventKind::PhaseStarted);
    if report.attempts > 1 {
        ctx.log(
            LogLevel::Info,
            "wipe",
            format!(
                "Carrying on an earlier wipe (attempt {}; {} resource(s) deleted so far).",
                report.attempts,
                report.deleted.len()
            ),
        );
    }
    ctx.log(
        LogLevel::Info,
        "wipe",
        "No run is watching this Sovereign any more; wiping.",
    );

    // 1. tofu destroy against the deployment's own state.
    ctx.progress(1, STEPS, "tofu destroy");
    match cloud.destroy(&mut ctx).await {
        Ok(Some(n)) => {
            report.tofu_destroyed = true;
            WipeReport::note(
                &mut report.deleted,
                format!("tofu destroy: {n} resource(s) in the state"),
            );
            ctx.log(
                LogLevel::Info,
                "wipe",
                format!("tofu destroy removed {n} resource(s)."),
            );
        }
        Ok(None) => {
            report.tofu_destroyed = true;
            ctx.log(
                LogLevel::Info,
                "wipe",
                "No OpenTofu state for this deployment: the purge finds its resources by label and name.",
            );
        }
        Err(e) => {
            report.tofu_destroyed = false;
            report.errors.push(format!("tofu destroy failed: {}", e.error));
            ctx.log(
                LogLevel::Warn,
                "wipe",
                format!("tofu destroy failed ({}); the purge goes on without it.", e.error),
            );
        }
    }
    let _ = report.save(&env.store, &id);

    // 2–4. Purge and verify; without a client nothing can be proven.
    let client = match cloud.wipe_client(&id).await {
        Ok(c) => Some(c),
        Err(e) => {
            report
                .left
                .push(format!("nothing could be checked: {} ({})", e.error, e.hint));
            None
        }
    };
    if let Some(client) = &client {
        let timings = Timings::from_settings(&env.settings);
        let mut p = Purger::new(client, &fqdn, timings, &ctx, &mut report);
        ctx.progress(2, STEPS, "purge by label");
        match p.by_label().await {
            Ok(n) => p
                .ctx
                .log(LogLevel::Info, "wipe", format!("Purge by label: {n} deleted.")),
            Err(e) => p.report.errors.push(format!("purge by label: {e}")),
        }
        ctx.progress(3, STEPS, "purge by name and key comment");
        match p.by_name().await {
            Ok(n) => p.ctx.log(
                LogLevel::Info,
                "wipe",
                format!("Purge by name and SSH key comment: {n} deleted."),
            ),
            Err(e) => p.report.errors.push(format!("purge by name: {e}")),
        }
        ctx.progress(4, STEPS, "verification sweep");
        let outcome = sweep::verify(&mut p).await;
        p.report.left = outcome.left;
        p.report.clean = p.report.left.is_empty();
        if p.report.clean {
            p.report.settle_pending();
        }
        p.save();
    }

    // 5. The name goes back to the pool.
    ctx.progress(5, STEPS, "release the domain");
    match cloud.release_domain(&mut ctx).await {
        Ok(released) => report.dns_released = released,
        Err(e) => {
            report.dns_released = false;
            report.errors.push(format!("PDM release: {e}"));
            ctx.log(LogLevel::Warn, "pdm", e);
        }
    }

    // 6. Local state goes only once the cloud is proven empty: a retried
    // wipe needs the state to destroy against again.
    ctx.progress(6, STEPS, "local cleanup");
    if report.clean {
        let mut removed = Vec::new();
        if let Ok(work) = tofu::module::work_dir(&env.data_dir, &id)
            && work.exists()
        {
            match std::fs::remove_dir_all(&work) {
                Ok(()) => removed.push(work.display().to_string()),
                Err(e) => report
                    .errors
                    .push(format!("{} could not be removed: {e}", work.display())),
            }
        }
        let kc = cloud.kubeconfig_file(&id);
        if kc.exists() {
            match std::fs::remove_file(&kc) {
                Ok(()) => removed.push(kc.display().to_string()),
                Err(e) => report
                    .errors
                    .push(format!("{} could not be removed: {e}", kc.display())),
            }
        }
        cloud.forget_secrets(&id);
        ctx.record.outputs.kubeconfig_path = None;
        report.local_cleaned = true;
        ctx.log(
            LogLevel::Info,
            "wipe",
            if removed.is_empty() {
                "Local cleanup: nothing to remove; the deployment's keys left the keyring.".to_owned()
            } else {
                format!(
                    "Local cleanup: removed {}; the deployment's keys left the keyring.",
                    removed.join(", ")
                )
            },
        );
    } else {
        ctx.log(
            LogLevel::Warn,
            "wipe",
            "The cloud could not be proven empty, so the OpenTofu state and the kubeconfig are kept for the next wipe.",
        );
    }

    report.finished_at = now_rfc3339();
    if report.clean {
        ctx.emit(EventKind::PhaseFinished {
            duration_s: started.elapsed().as_secs_f64(),
        });
        ctx.record.status = RunStatus::Wiped;
        ctx.record.failure = None;
    } else {
        let error = format!(
            "The wipe could not prove the cloud empty: {}",
            if report.left.is_empty() {
                "see the log".to_owned()
            } else {
                report.left.join("; ")
            }
        );
        let hint = format!(
            "Wipe again: it carries on. If they stay, delete what is labelled catalyst.openova.io/sovereign={fqdn} in the Hetzner console."
        );
        ctx.emit(EventKind::PhaseFailed {
            error: error.clone(),
            hint: hint.clone(),
        });
        ctx.record.status = RunStatus::WipeIncomplete;
        ctx.record.failure = Some(Failure {
            phase: Phase::Wipe,
            error,
            hint,
            code: None,
        });
    }
    ctx.sync();
    report
        .save(&env.store, &id)
        .map_err(|e| ApiError::new(ErrorCode::ReportWriteFailed, e.to_string()))?;
    ctx.save();
    Ok(report)
}
