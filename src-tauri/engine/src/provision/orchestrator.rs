//! The phase loop every run goes through, demo or live: each phase started,
//! then finished or failed, in the event log and the record; Cancel checked
//! before a phase starts; a live phase kept to its time limit; a resume
//! starting at the phase that stopped. What a phase does is the runner's.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::error::ErrorCode;
use crate::events::{EventKind, LogLevel, Phase};
use crate::settings::PhaseTimeouts;
use crate::store::deployments::{Failure, RunStatus};
use crate::tofu::runner::CancelLevel;

use super::context::{PhaseError, RunCtx, Stop};
use super::phases;

/// A phase's work, as the orchestrator awaits it.
pub type PhaseResult = Result<(), Stop>;

/// What a cloud does in each phase of a run (the demo simulation, the real
/// one); the orchestrator calls the phases in order.
pub trait PhaseRunner: Send {
    fn preflight(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn reserve_domain(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn tofu_init(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn tofu_plan(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn tofu_apply(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn dns_commit(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn cloud_init(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn kubeconfig(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn bootstrap(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;
    fn console(&mut self, ctx: &mut RunCtx) -> impl Future<Output = PhaseResult> + Send;

    /// After a phase stopped (failed or cancelled), before the stop is
    /// recorded: what the runner holds for the run is let go here.
    fn stopped(&mut self, phase: Phase, stop: &Stop, ctx: &mut RunCtx) -> impl Future<Output = ()> + Send {
        let _ = (phase, stop, ctx);
        async {}
    }

    /// Once every phase finished, just before Done is sent.
    fn finished(&self, ctx: &RunCtx, wall: Duration) {
        let _ = (ctx, wall);
    }
}

/// One phase of `runner`, and its `stopped` hook when it did not finish.
async fn run_phase<R: PhaseRunner>(runner: &mut R, phase: Phase, ctx: &mut RunCtx) -> PhaseResult {
    let outcome = match phase {
        Phase::Preflight => runner.preflight(ctx).await,
        Phase::ReserveDomain => runner.reserve_domain(ctx).await,
        Phase::TofuInit => runner.tofu_init(ctx).await,
        Phase::TofuPlan => runner.tofu_plan(ctx).await,
        Phase::TofuApply => runner.tofu_apply(ctx).await,
        Phase::DnsCommit => runner.dns_commit(ctx).await,
        Phase::CloudInit => runner.cloud_init(ctx).await,
        Phase::Kubeconfig => runner.kubeconfig(ctx).await,
        Phase::Bootstrap => runner.bootstrap(ctx).await,
        Phase::Console => runner.console(ctx).await,
        Phase::Done | Phase::Wipe => Ok(()),
    };
    if let Err(stop) = &outcome {
        runner.stopped(phase, stop, ctx).await;
    }
    outcome
}

/// Runs one phase under its time limit. An inner wait (cloud-init, the Flux
/// watch, the console) has the same limit and a more precise message, so
/// this backstop fires a little later. On expiry the phase is stopped the way
/// Cancel stops it (tofu gets one SIGINT and saves its state), then the run
/// fails with the reason.
async fn bounded_phase<R: PhaseRunner>(
    ctx: &mut RunCtx,
    runner: &mut R,
    limits: Option<&PhaseTimeouts>,
    stopper: &watch::Sender<CancelLevel>,
) -> PhaseResult {
    let phase = ctx.phase;
    let Some(limits) = limits else {
        return run_phase(runner, phase, ctx).await;
    };
    let limit = limits.limit(phase);
    let backstop = limit + (limit / 10).min(Duration::from_secs(30));
    let fut = run_phase(runner, phase, ctx);
    tokio::pin!(fut);
    tokio::select! {
        outcome = &mut fut => outcome,
        _ = tokio::time::sleep(backstop) => {
            // One graceful stop, as a first Cancel; never counts as a second.
            stopper.send_if_modified(|l| {
                let first = *l == CancelLevel::None;
                if first {
                    *l = CancelLevel::Graceful;
                }
                first
            });
            let _ = fut.await;
            Err(Stop::Failed(PhaseError::new(
                format!(
                    "\"{}\" did not finish within its time limit of {} s.",
                    phases::title(phase),
                    limit.as_secs()
                ),
                "If this phase needs longer here, raise its time limit in Settings, then Resume; Wipe removes what was created.",
            )))
        }
    }
}

/// What Wipe would do, once something may exist in the cloud.
fn wipe_hint(ctx: &RunCtx) -> &'static str {
    if ctx.record.demo.is_none() && !ctx.phase.is_before(Phase::TofuApply) {
        " Wipe removes what was created."
    } else {
        ""
    }
}

/// The phase loop, from `from` on. Every outcome ends up in the record and
/// the event log. `limits`: the live phases' time limits (a demo run keeps
/// its compressed timings); `stopper`: the run's cancel switch, which the
/// time limit pulls like a first Cancel.
pub async fn run<R: PhaseRunner>(
    mut ctx: RunCtx,
    mut runner: R,
    from: Phase,
    limits: Option<PhaseTimeouts>,
    stopper: Arc<watch::Sender<CancelLevel>>,
) {
    let wall = Instant::now();
    for phase in phases::from(from) {
        ctx.phase = phase;
        ctx.record.phase = Some(phase);
        ctx.save();
        ctx.emit(EventKind::PhaseStarted);
        let started = Instant::now();
        let outcome = match (ctx.check(), ctx.space_shortfall()) {
            (Err(c), _) => Err(Stop::from(c)),
            (Ok(()), Some(short)) => Err(Stop::Failed(
                PhaseError::new(
                    short,
                    format!(
                        "Free some space on that disk, then Resume: the run starts again at this step.{}",
                        wipe_hint(&ctx)
                    ),
                )
                .with_code(ErrorCode::EventsUnwritable),
            )),
            (Ok(()), None) => bounded_phase(&mut ctx, &mut runner, limits.as_ref(), &stopper).await,
        };
        // A write that failed stops the run whatever the phase said: its
        // events or record are not on disk, so it must not go on unseen.
        let outcome = match ctx.fault() {
            Some(f) => Err(Stop::Failed(
                PhaseError::new(
                    f.sentence(),
                    format!(
                        "Free some space on the disk of {}, then Resume: the run starts again at this step.{}",
                        ctx.store.dir(&ctx.record.id).display(),
                        wipe_hint(&ctx)
                    ),
                )
                .with_code(ErrorCode::EventsUnwritable),
            )),
            None => outcome,
        };
        match outcome {
            Ok(()) => {
                ctx.emit(EventKind::PhaseFinished {
                    duration_s: started.elapsed().as_secs_f64(),
                });
                if !ctx.record.completed.contains(&phase) {
                    ctx.record.completed.push(phase);
                }
                ctx.sync();
                ctx.save();
            }
            Err(Stop::Failed(e)) => {
                ctx.emit(EventKind::PhaseFailed {
                    error: e.error.clone(),
                    hint: e.hint.clone(),
                });
                ctx.record.status = RunStatus::Failed;
                ctx.record.failure = Some(Failure {
                    phase,
                    error: e.error,
                    hint: e.hint,
                    code: e.code,
                });
                ctx.sync();
                ctx.save();
                return;
            }
            Err(Stop::Cancelled) => {
                ctx.emit(EventKind::Log {
                    level: LogLevel::Warn,
                    source: "app".into(),
                    line: format!(
                        "Cancelled during \"{}\". Resume continues from here; Wipe removes what was created.",
                        phases::title(phase)
                    ),
                });
                ctx.emit(EventKind::PhaseCancelled);
                ctx.record.status = RunStatus::Cancelled;
                ctx.sync();
                ctx.save();
                return;
            }
        }
    }
    let console_url = ctx
        .record
        .outputs
        .console_url
        .clone()
        .unwrap_or_else(|| format!("https://console.{}", ctx.record.fqdn));
    ctx.phase = Phase::Done;
    ctx.record.phase = Some(Phase::Done);
    ctx.record.status = RunStatus::Done;
    runner.finished(&ctx, wall.elapsed());
    ctx.emit(EventKind::Done { console_url });
    ctx.sync();
    ctx.save();
}
