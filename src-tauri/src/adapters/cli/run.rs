//! `provision` and `resume`: start or continue a run on the engine and
//! follow it to its end; Ctrl-C (or SIGTERM) cancels it cleanly. And
//! `wipe`, shown the same way.

use crate::engine::ErrorCode;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};

use super::answers;
use super::live;
use super::view::{View, err, out};
use super::{
    EXIT_CANCELLED, EXIT_CLOUD, EXIT_CLUSTER, EXIT_DOMAIN, EXIT_FAILED, EXIT_INVALID_ANSWERS, EXIT_QUOTA,
    EXIT_TOKEN,
};
use crate::engine::events::Phase;
use crate::engine::events::ProvisionEvent;
use crate::engine::provision::{EventsArgs, IdArgs, StartArgs, phases};
use crate::engine::settings::Mode;
use crate::engine::store::deployments::{DemoScenario, DeploymentRecord, DeploymentSummary, RunStatus};
use crate::engine::wipe::{WipeArgs, WipeReport};
use crate::engine::{ApiError, Engine};

/// How often the record is read to learn that the run ended.
const POLL: Duration = Duration::from_millis(200);

pub(super) async fn record(engine: &Engine, id: &str) -> Result<DeploymentRecord, ApiError> {
    engine.deployment_get(IdArgs { id: id.to_owned() }).await
}

pub(super) async fn events_since(
    engine: &Engine,
    id: &str,
    since: u64,
) -> Result<Vec<ProvisionEvent>, ApiError> {
    let args = EventsArgs {
        id: id.to_owned(),
        since_seq: since,
    };
    engine.deployment_events(args).await
}

/// SIGINT (Ctrl-C) and SIGTERM, as often as they come. Registered on
/// creation, so a signal right after the run starts is never the default
/// "kill the process".
pub(super) struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(sig) => {
            if sig.recv().await.is_none() {
                std::future::pending::<()>().await
            }
        }
        None => std::future::pending::<()>().await,
    }
}

impl Signals {
    pub(super) fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next SIGINT or SIGTERM, and which it was.
    pub(super) async fn next(&mut self) -> Stop {
        #[cfg(unix)]
        tokio::select! {
            _ = recv(&mut self.int) => Stop::Interrupt,
            _ = recv(&mut self.term) => Stop::Terminate,
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await
            }
            Stop::Interrupt
        }
    }
}

/// Ctrl-C asks the run to stop and waits for it; SIGTERM (a CI runner
/// ending the job, systemd stopping a unit) asks the same but only waits
/// `TERM_GRACE`: what sends it sends SIGKILL soon after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Interrupt,
    Terminate,
}

/// How long SIGTERM waits for the run to stop before the process exits.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// The version of the `--json` stream (docs/cli.md); raised when a line
/// changes in a way a reader would notice.
pub const STREAM_VERSION: u32 = 1;

/// How `provision` runs.
pub struct ProvisionOptions<'a> {
    pub scenario: Option<DemoScenario>,
    pub speed: Option<f64>,
    pub json: bool,
    /// Live runs: no confirmation asked.
    pub yes: bool,
    /// The token and admin key given on this command line's behalf.
    pub given: &'a live::Given,
}

/// `provision --answers FILE`: check the answers, start the run, follow it.
pub async fn provision(engine: &Engine, path: &Path, o: ProvisionOptions<'_>) -> ExitCode {
    let ProvisionOptions {
        scenario,
        speed,
        json,
        yes,
        given,
    } = o;
    // With --json stdout carries events only; everything else goes to stderr.
    let say = |l: &str| if json { err(l) } else { out(l) };
    let mut answers = match answers::load(path) {
        Ok(a) => a,
        Err(r) => {
            if r.code == EXIT_INVALID_ANSWERS {
                say(&r.message);
            } else {
                err(&r.message);
            }
            return ExitCode::from(r.code);
        }
    };
    let live = engine.mode() == Mode::Live;
    if live && let Err(r) = live::prepare(engine, &mut answers, given, live::Purpose::Run).await {
        err(&r.message);
        return ExitCode::from(r.code);
    }
    if let Some(code) = answers::refuse_problems(engine, &mut answers, say).await {
        return ExitCode::from(code);
    }
    if live && let Err(r) = live::confirm(engine, &answers, yes).await {
        err(&r.message);
        return ExitCode::from(r.code);
    }
    let signals = Signals::new();
    // Subscribed before the start, so the first event is never missed.
    let rx = engine.events().subscribe();
    let args = StartArgs {
        answers,
        scenario,
        speed,
    };
    let summary = match engine.provision_start(args).await {
        Ok(s) => s,
        Err(e) => {
            err(&e.message);
            let code = if e.code == ErrorCode::InvalidAnswers {
                EXIT_INVALID_ANSWERS
            } else {
                EXIT_FAILED
            };
            return ExitCode::from(code);
        }
    };
    follow(engine, &summary, rx, signals, json, 0).await
}

/// `resume <id>`: continue the run where it stopped and follow it.
pub async fn resume(engine: &Engine, id: &str, json: bool) -> ExitCode {
    let signals = Signals::new();
    // Only what happens from now on is shown: `events <id>` lists the past.
    let base = match events_since(engine, id, 0).await {
        Ok(evs) => evs.last().map(|e| e.seq).unwrap_or(0),
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let rx = engine.events().subscribe();
    let summary = match engine.provision_resume(IdArgs { id: id.to_owned() }).await {
        Ok(s) => s,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    follow(engine, &summary, rx, signals, json, base).await
}

/// Shows the run's events until its record says it ended. Events come from
/// the live stream; after a lag and at the end the rest is read from disk
/// by seq, so nothing is shown twice or lost.
async fn follow(
    engine: &Engine,
    run: &DeploymentSummary,
    mut rx: broadcast::Receiver<ProvisionEvent>,
    mut signals: Signals,
    json: bool,
    mut last: u64,
) -> ExitCode {
    let id = run.id.as_str();
    let mut view = View::new(json);
    view.json_line(&serde_json::json!({
        "stream": "catalyst-provisioner/run",
        "version": STREAM_VERSION,
        "deployment_id": id,
        "fqdn": run.fqdn,
        "demo": run.demo,
    }));
    let demo = if run.demo { ", demo: simulated cloud" } else { "" };
    view.note(&format!(
        "Deployment {id} for {}{demo}. Ctrl-C cancels the run.",
        run.fqdn
    ));
    let mut poll = tokio::time::interval(POLL);
    let mut live = true;
    let mut cancelling = false;
    let mut term_deadline: Option<tokio::time::Instant> = None;
    loop {
        if let Some(at) = term_deadline
            && tokio::time::Instant::now() >= at
        {
            view.finish();
            return leave_interrupted(engine, id, "SIGTERM", &view).await;
        }
        tokio::select! {
            r = rx.recv(), if live => match r {
                Ok(e) if e.deployment_id == id && e.seq > last => {
                    last = e.seq;
                    view.show(&e);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if let Err(e) = catch_up(engine, id, &mut last, &mut view).await {
                        view.note(&e.message);
                    }
                }
                Err(RecvError::Closed) => live = false,
            },
            _ = poll.tick() => {
                let rec = match record(engine, id).await {
                    Ok(r) => r,
                    Err(e) => {
                        view.finish();
                        err(&e.message);
                        return ExitCode::from(EXIT_FAILED);
                    }
                };
                if rec.status != RunStatus::Running {
                    // Every event is on disk before the record changes.
                    if let Err(e) = catch_up(engine, id, &mut last, &mut view).await {
                        view.note(&e.message);
                    }
                    view.finish();
                    return outcome(&rec, &view);
                }
                if !engine.is_running(id) {
                    // The run ended, but the record on disk still says running:
                    // its last save failed (the event stream said why).
                    view.finish();
                    err(&format!(
                        "The run stopped, but its record could not be written (is the disk full?). \
                         Free some space, then `catalyst-provisioner resume {id}` continues it."
                    ));
                    view.json_line(&summary(&rec, EXIT_FAILED, "the run stopped; its record could not be written"));
                    return ExitCode::from(EXIT_FAILED);
                }
            }
            stop = signals.next() => {
                if cancelling && stop == Stop::Interrupt {
                    view.finish();
                    return leave_interrupted(engine, id, "a second Ctrl-C", &view).await;
                }
                if stop == Stop::Terminate && term_deadline.is_none() {
                    term_deadline = Some(tokio::time::Instant::now() + TERM_GRACE);
                    poll.reset_immediately();
                }
                if !cancelling {
                    cancelling = true;
                    view.note(match stop {
                        Stop::Interrupt => "Cancelling at the next safe point… (Ctrl-C again quits without waiting)",
                        Stop::Terminate => "SIGTERM: cancelling at the next safe point, leaving in 3 s at the latest…",
                    });
                    match engine.provision_cancel(IdArgs { id: id.to_owned() }).await {
                        Ok(()) => {}
                        // It ended meanwhile: the next poll says how.
                        Err(e) if e.code == ErrorCode::NotRunning => {}
                        Err(e) => view.note(&e.message),
                    }
                }
            }
        }
    }
}

async fn catch_up(engine: &Engine, id: &str, last: &mut u64, view: &mut View) -> Result<(), ApiError> {
    for e in events_since(engine, id, *last).await? {
        *last = e.seq;
        view.show(&e);
    }
    Ok(())
}

/// SIGTERM's grace is over and the run still goes: the record says
/// interrupted (where it can be written), so the next start or a `resume`
/// carries on; tofu, asked to stop, finishes saving its state on its own.
async fn leave_interrupted(engine: &Engine, id: &str, on: &str, view: &View) -> ExitCode {
    match engine.mark_interrupted(id).await {
        Ok(()) => err(&format!(
            "Stopped on {on} without waiting for the cancel; the run is left interrupted \
             (`catalyst-provisioner resume {id}` continues it)."
        )),
        Err(e) => err(&format!(
            "Stopped on {on}; the record could not say so ({}). The next start marks it interrupted.",
            e.message
        )),
    }
    if let Ok(rec) = record(engine, id).await {
        view.json_line(&summary(&rec, EXIT_CANCELLED, "cancelled"));
    }
    ExitCode::from(EXIT_CANCELLED)
}

/// The exit code for how a run ended, and what it means (docs/cli.md).
pub(super) fn exit_for(rec: &DeploymentRecord) -> (u8, &'static str) {
    use crate::engine::ErrorCode as C;
    match rec.status {
        RunStatus::Done => (0, "done"),
        RunStatus::Cancelled | RunStatus::Interrupted => (EXIT_CANCELLED, "cancelled"),
        RunStatus::Failed => {
            let Some(f) = &rec.failure else {
                return (EXIT_FAILED, "failed");
            };
            match (f.code, f.phase) {
                // The machine, not the cloud or the cluster: a write that failed.
                (Some(C::EventsUnwritable), _) => (EXIT_FAILED, "could not write (disk full?)"),
                (Some(C::Unauthorized | C::TokenReadonly | C::Forbidden), _) => (EXIT_TOKEN, "token refused"),
                (Some(C::ResourceLimitExceeded), _) => (EXIT_QUOTA, "quota"),
                (Some(C::SubdomainTaken | C::SubdomainTakenAfterExpiry | C::SubdomainAlreadyActive), _) => {
                    (EXIT_DOMAIN, "domain taken")
                }
                (_, Phase::TofuInit | Phase::TofuPlan | Phase::TofuApply) => (EXIT_CLOUD, "cloud failure"),
                (_, Phase::CloudInit | Phase::Kubeconfig | Phase::Bootstrap | Phase::Console) => {
                    (EXIT_CLUSTER, "cluster failure")
                }
                _ => (EXIT_FAILED, "failed"),
            }
        }
        _ => (EXIT_FAILED, "failed"),
    }
}

/// The stream's last line: how the run ended, its outputs, what to run next.
fn summary(rec: &DeploymentRecord, code: u8, meaning: &str) -> serde_json::Value {
    let resumable = matches!(
        rec.status,
        RunStatus::Failed | RunStatus::Cancelled | RunStatus::Interrupted | RunStatus::Running
    );
    serde_json::json!({
        "summary": {
            "version": STREAM_VERSION,
            "deployment_id": rec.id,
            "fqdn": rec.fqdn,
            "status": rec.status,
            "phase": rec.phase,
            "exit_code": code,
            "exit_meaning": meaning,
            "failure": rec.failure,
            "outputs": rec.outputs,
            "kubeconfig": rec.outputs.kubeconfig_path,
            "resume": resumable.then(|| format!("catalyst-provisioner resume {}", rec.id)),
        }
    })
}

/// The exit code and the closing words for how the run ended.
fn outcome(rec: &DeploymentRecord, view: &View) -> ExitCode {
    let json = matches!(view, View::Json);
    let say = |l: &str| if json { err(l) } else { out(l) };
    let (code, meaning) = exit_for(rec);
    view.json_line(&summary(rec, code, meaning));
    match rec.status {
        RunStatus::Done => {
            let url = rec
                .outputs
                .console_url
                .as_deref()
                .unwrap_or("(no console address)");
            say(&format!("Done: {} is up. Console: {url}", rec.fqdn));
            ExitCode::SUCCESS
        }
        RunStatus::Failed => {
            match &rec.failure {
                Some(f) => {
                    err(&format!("Failed in \"{}\": {}", phases::title(f.phase), f.error));
                    err(&format!("Hint: {}", f.hint));
                }
                None => err("The run failed."),
            }
            err(&format!(
                "`catalyst-provisioner resume {}` retries the failed phase.",
                rec.id
            ));
            ExitCode::from(code)
        }
        RunStatus::Cancelled => {
            let at = rec.phase.map(phases::title).unwrap_or("the start");
            err(&format!(
                "Cancelled during \"{at}\". `catalyst-provisioner resume {}` continues from there.",
                rec.id
            ));
            ExitCode::from(EXIT_CANCELLED)
        }
        other => {
            err(&format!("The run stopped: it is {other:?}.").to_lowercase());
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `wipe <id> [--yes]`: removes what the deployment created, after the
/// operator typed its FQDN (or said --yes), showing the wipe as it goes.
pub async fn wipe(engine: &Engine, id: &str, yes: bool, converging_ok: bool, json: bool) -> ExitCode {
    let rec = match record(engine, id).await {
        Ok(r) => r,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let confirm = if yes {
        rec.fqdn.clone()
    } else {
        eprint!(
            "This removes everything {} created. Type its name to confirm: ",
            rec.fqdn
        );
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() {
            line.clear();
        }
        line.trim().to_owned()
    };
    let mut last = match events_since(engine, id, 0).await {
        Ok(evs) => evs.last().map(|e| e.seq).unwrap_or(0),
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let mut view = View::new(json);
    let mut rx = engine.events().subscribe();
    let wiping = engine.deployment_wipe(WipeArgs {
        id: id.to_owned(),
        confirm,
        converging_ok,
    });
    tokio::pin!(wiping);
    let answer = loop {
        tokio::select! {
            a = &mut wiping => break a,
            r = rx.recv() => {
                if let Ok(e) = r
                    && e.deployment_id == id
                    && e.seq > last
                {
                    last = e.seq;
                    view.show(&e);
                }
            }
        }
    };
    if let Err(e) = catch_up(engine, id, &mut last, &mut view).await {
        view.note(&e.message);
    }
    view.finish();
    let report = match answer {
        Ok(r) => r,
        Err(e) => {
            err(&e.message);
            if e.code == ErrorCode::StillConverging {
                err("Run again with --converging-ok to wipe it anyway.");
            }
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let say = |l: &str| if json { err(l) } else { out(l) };
    for l in report_lines(&rec.fqdn, &report) {
        say(&l);
    }
    if report.clean {
        ExitCode::SUCCESS
    } else {
        err("The cloud could not be proven empty; the state is kept. Run the wipe again to carry on.");
        ExitCode::from(EXIT_FAILED)
    }
}

/// The wipe report as the terminal shows it.
pub fn report_lines(fqdn: &str, r: &WipeReport) -> Vec<String> {
    let mut lines = vec![format!(
        "{} {fqdn}: {} resource(s) deleted, {} retried, {} left{}{}.",
        if r.clean { "Wiped" } else { "Not wiped clean:" },
        r.deleted.len(),
        r.retried.len(),
        r.left.len(),
        if r.dns_released { ", name released" } else { "" },
        if r.attempts > 1 {
            format!(" (attempt {})", r.attempts)
        } else {
            String::new()
        },
    )];
    lines.extend(r.deleted.iter().map(|d| format!("  deleted: {d}")));
    lines.extend(r.retried.iter().map(|d| format!("  retried: {d}")));
    lines.extend(r.left.iter().map(|d| format!("  left: {d}")));
    lines.extend(r.errors.iter().map(|d| format!("  error: {d}")));
    lines
}
