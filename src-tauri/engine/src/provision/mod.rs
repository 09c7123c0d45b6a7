//! The provisioning run's commands: start (answers validated, the record
//! created), resume, cancel, and the deployments' records and events. The
//! phase loop is the orchestrator's; each phase's work is the demo
//! simulation's or the live cloud's (`orchestrator::PhaseRunner`).

pub mod context;
pub mod live;
pub mod orchestrator;
pub mod phases;
pub mod plan_preview;
pub mod run_secrets;

use crate::error::ErrorCode;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use ts_rs::TS;

use crate::demo::run::DemoCloud;
use crate::error::ApiError;
use crate::events::{Phase, ProvisionEvent};
use crate::settings::PhaseTimeouts;
use crate::store::deployments::{
    DemoScenario, DemoSettings, DeploymentRecord, DeploymentSummary, Deployments, RunOutputs, RunStatus,
    new_id, now_rfc3339,
};
use crate::store::lock::DeploymentLock;
use crate::tofu::runner::CancelLevel;
use crate::wizard::{Context, Step, WizardAnswers, validate_step};
use crate::{Engine, settings::Mode};
use context::RunCtx;
use live::LiveCloud;
use orchestrator::PhaseRunner;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StartArgs {
    pub answers: WizardAnswers,
    /// Demo runs only: which story to tell and how fast (default ×10, about two minutes).
    pub scenario: Option<DemoScenario>,
    pub speed: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventsArgs {
    pub id: String,
    /// Events after this one (0: from the start).
    #[ts(type = "number")]
    pub since_seq: u64,
}

pub const DEFAULT_DEMO_SPEED: f64 = 10.0;

/// The runs going on now, by deployment id: their cancel switches.
pub(crate) type RunSwitches = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<watch::Sender<CancelLevel>>>>,
>;

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("There is no deployment \"{id}\"."))
}

impl Engine {
    pub(crate) fn deployments(&self) -> Deployments {
        Deployments::new(&self.paths.data_dir)
    }

    /// Every deployment, newest first, with what its servers cost per hour
    /// while they may exist (from the apply on, until a clean wipe).
    pub async fn deployments_list(&self) -> Result<Vec<DeploymentSummary>, ApiError> {
        let store = self.deployments();
        let offers = self.offers();
        let mut list = store.list();
        for s in &mut list {
            if s.problem.is_some() || s.status == Some(RunStatus::Wiped) {
                continue;
            }
            if let Ok(r) = store.load(&s.id)
                && (r.completed.contains(&Phase::TofuApply) || r.phase == Some(Phase::TofuApply))
            {
                let hourly = crate::catalog::estimate(&r.answers, &offers).hourly_eur;
                s.eur_per_hour = (hourly > 0.0).then_some(hourly);
            }
        }
        Ok(list)
    }

    pub async fn deployment_get(&self, args: IdArgs) -> Result<DeploymentRecord, ApiError> {
        self.deployments().load(&args.id).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_found(&args.id),
            _ => ApiError::new(
                ErrorCode::RecordUnreadable,
                format!("The record of {} cannot be read: {e}", args.id),
            ),
        })
    }

    pub async fn deployment_events(&self, args: EventsArgs) -> Result<Vec<ProvisionEvent>, ApiError> {
        self.deployments().events(&args.id, args.since_seq).map_err(|e| {
            ApiError::new(
                ErrorCode::EventsUnreadable,
                format!("The events of {} cannot be read: {e}", args.id),
            )
        })
    }

    /// Validates every step, creates the record and starts the run.
    pub async fn provision_start(&self, mut args: StartArgs) -> Result<DeploymentSummary, ApiError> {
        self.ask_availability_again(&mut args.answers).await?;
        self.check_review(&args.answers)?;
        if let Some(e) = self.pasted_key_problem(&args.answers).await {
            return Err(ApiError {
                code: ErrorCode::InvalidAnswers,
                message: e.message,
                field: Some(e.field),
            });
        }
        let fqdn = args.answers.fqdn().unwrap_or_default();
        let demo = (self.mode() == Mode::Demo).then(|| DemoSettings {
            scenario: args.scenario.unwrap_or(DemoScenario::HappyPath),
            speed: args.speed.unwrap_or(DEFAULT_DEMO_SPEED).clamp(1.0, 60.0),
            seed: rand::random(),
        });
        let store = self.deployments();
        // One run per FQDN at a time (a demo run never blocks a real one).
        let busy = store.list().into_iter().any(|d| {
            d.fqdn == fqdn && d.demo == demo.is_some() && matches!(d.status, Some(RunStatus::Running))
        });
        if busy {
            return Err(ApiError {
                code: ErrorCode::AlreadyRunning,
                message: format!("A run for {fqdn} is already going; open it from the deployments list."),
                field: Some("domain.subdomain".into()),
            });
        }
        // A live Sovereign of this name that was not wiped still exists (or
        // may, half-made): a second one would fight it for the name and the
        // project's resources. Resume or wipe that one first.
        if demo.is_none()
            && let Some(d) = store
                .list()
                .into_iter()
                .find(|d| d.fqdn == fqdn && !d.demo && d.status.is_some_and(|s| s != RunStatus::Wiped))
        {
            let status = serde_json::to_value(d.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(ApiError {
                code: ErrorCode::AlreadyRunning,
                message: format!(
                    "{fqdn} already has a deployment ({}, {}): open it from the deployments list to resume it, or wipe it first.",
                    d.id,
                    status.replace('_', " ")
                ),
                field: Some("domain.subdomain".into()),
            });
        }
        let now = now_rfc3339();
        let record = DeploymentRecord {
            id: new_id(),
            fqdn,
            demo,
            created_at: now.clone(),
            updated_at: now,
            status: RunStatus::Running,
            phase: Some(Phase::Preflight),
            completed: Vec::new(),
            answers: args.answers,
            outputs: RunOutputs::default(),
            failure: None,
            reservation: None,
            engine: None,
        };
        if record.demo.is_none() {
            let (secrets, id, answers) = (self.secrets(), record.id.clone(), record.answers.clone());
            tokio::task::spawn_blocking(move || run_secrets::adopt(secrets.as_ref(), &id, &answers))
                .await
                .map_err(|e| {
                    ApiError::new(ErrorCode::KeyringFailed, format!("The keyring call stopped: {e}"))
                })?
                .map_err(ApiError::from)?;
        }
        // Taken before the record says running, so no other process's
        // start-up check can find it running and unheld.
        crate::store::dirs::create_private_dir_all(&store.dir(&record.id)).map_err(|e| {
            ApiError::new(
                ErrorCode::RecordWriteFailed,
                format!("The deployment's directory could not be made: {e}"),
            )
        })?;
        let lock = store
            .lock(&record.id, "running it")
            .map_err(|e| e.refusal(ErrorCode::HeldElsewhere, "open it from there"))?;
        if let Err(e) = store.save(&record) {
            // Nothing ran: leave no half-made deployment to list as unreadable.
            drop(lock);
            let _ = std::fs::remove_dir_all(store.dir(&record.id));
            return Err(ApiError::new(
                ErrorCode::RecordWriteFailed,
                format!("The deployment record could not be written: {e}"),
            ));
        }
        let summary = record.summary();
        self.spawn_run(record, Phase::Preflight, lock)?;
        Ok(summary)
    }

    /// Every step's rules, as Review applies them: the first problem, with
    /// its field and how many there are.
    pub(crate) fn check_review(&self, answers: &WizardAnswers) -> Result<(), ApiError> {
        let offers = self.offers();
        let pools = self.current_settings().pools();
        let errors = validate_step(
            Step::Review,
            answers,
            &Context {
                offers: &offers,
                pools: &pools,
            },
        );
        match errors.first() {
            Some(first) => Err(ApiError {
                code: ErrorCode::InvalidAnswers,
                message: format!("{} ({} problem(s) in the answers)", first.message, errors.len()),
                field: Some(first.field.clone()),
            }),
            None => Ok(()),
        }
    }

    /// The availability the front end copied into the answers is not taken
    /// on trust: a pool name is asked again, now. Only when PDM cannot
    /// answer does an earlier "available" for this very name stand; the
    /// run's preflight asks PDM again and stops there with PDM's reason.
    pub(crate) async fn ask_availability_again(&self, answers: &mut WizardAnswers) -> Result<(), ApiError> {
        match self.availability_now(answers).await {
            Ok(now) => answers.domain.availability = now,
            Err(e) => {
                let fqdn = answers.fqdn();
                let earlier = answers.domain.availability.as_ref();
                if !earlier.is_some_and(|c| c.available && Some(&c.fqdn) == fqdn.as_ref()) {
                    return Err(e);
                }
                tracing::warn!(code = %e.code, "PDM did not answer; the Domain step's check stands");
            }
        }
        Ok(())
    }

    /// Continues an interrupted, failed or cancelled run at the phase it stopped in.
    pub async fn provision_resume(&self, args: IdArgs) -> Result<DeploymentSummary, ApiError> {
        let record = self.deployment_get(args.clone()).await?;
        if self.is_running(&record.id) {
            return Err(ApiError::new(
                ErrorCode::AlreadyRunning,
                "This run is already going.",
            ));
        }
        // Across processes (two windows, a window and the CLI): the one that
        // takes the lock runs; the record is read again under it.
        let lock = self
            .deployments()
            .lock(&record.id, "resuming the run")
            .map_err(|e| e.refusal(ErrorCode::HeldElsewhere, "follow it from there"))?;
        let mut record = self.deployment_get(args).await?;
        if !matches!(
            record.status,
            RunStatus::Interrupted | RunStatus::Failed | RunStatus::Cancelled
        ) {
            return Err(ApiError::new(
                ErrorCode::NotResumable,
                format!("A {:?} run cannot be resumed.", record.status).to_lowercase(),
            ));
        }
        let from = record.phase.unwrap_or(Phase::Preflight);
        record.status = RunStatus::Running;
        record.failure = None;
        record.updated_at = now_rfc3339();
        self.deployments()
            .save(&record)
            .map_err(|e| ApiError::new(ErrorCode::RecordWriteFailed, e.to_string()))?;
        let summary = record.summary();
        self.spawn_run(record, from, lock)?;
        Ok(summary)
    }

    /// Asks the run to stop; it reports `cancelled` once the current step let go.
    /// Every call counts: a second one while tofu is still saving its state kills it.
    pub async fn provision_cancel(&self, args: IdArgs) -> Result<(), ApiError> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        match runs.get(&args.id) {
            Some(tx) => {
                tx.send_modify(|l| *l = l.escalated());
                Ok(())
            }
            None => Err(ApiError::new(
                ErrorCode::NotRunning,
                "This deployment has no run going.",
            )),
        }
    }

    /// Marks a run this process is leaving (the CLI on SIGTERM) as
    /// interrupted on disk, so it reads resumable at once; its task is
    /// asked to stop too. A record not running is left as it is.
    pub async fn mark_interrupted(&self, id: &str) -> Result<(), ApiError> {
        if let Some(tx) = self.runs.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            tx.send_if_modified(|l| {
                let first = *l == CancelLevel::None;
                if first {
                    *l = CancelLevel::Graceful;
                }
                first
            });
        }
        let mut record = self.deployment_get(IdArgs { id: id.to_owned() }).await?;
        if record.status != RunStatus::Running {
            return Ok(());
        }
        record.status = RunStatus::Interrupted;
        record.updated_at = now_rfc3339();
        self.deployments()
            .save(&record)
            .map_err(|e| ApiError::new(ErrorCode::RecordWriteFailed, e.to_string()))
    }

    /// Whether this process runs the deployment now (its task has not ended).
    pub fn is_running(&self, id: &str) -> bool {
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(id)
    }

    fn spawn_run(&self, record: DeploymentRecord, from: Phase, lock: DeploymentLock) -> Result<(), ApiError> {
        match record.demo.clone() {
            Some(d) => self.spawn_with(record, from, DemoCloud::new(d), None, lock),
            None => {
                let settings = self.current_settings();
                // Demo runs keep their compressed timings; only live phases are bounded.
                let limits = Some(settings.timeouts.clone());
                let cloud = LiveCloud::new(settings, self.secrets(), self.paths.data_dir.clone());
                self.spawn_with(record, from, cloud, limits, lock)
            }
        }
    }

    /// Starts the orchestrator over `runner` on its own task; the run's
    /// cancel switch is in `runs` while it goes.
    fn spawn_with<R: PhaseRunner + 'static>(
        &self,
        record: DeploymentRecord,
        from: Phase,
        runner: R,
        limits: Option<PhaseTimeouts>,
        lock: DeploymentLock,
    ) -> Result<(), ApiError> {
        let store = self.deployments();
        let log = store.open_log(&record.id).map_err(|e| {
            ApiError::new(
                ErrorCode::EventsUnwritable,
                format!("The event log could not be opened: {e}"),
            )
        })?;
        let (tx, rx) = watch::channel(CancelLevel::None);
        let tx = std::sync::Arc::new(tx);
        let id = record.id.clone();
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx.clone());
        let reserve = crate::store::space::Reserve::make(&store.dir(&record.id));
        let floor = self
            .current_settings()
            .overrides
            .disk_floor_bytes
            .unwrap_or(crate::store::space::BASE_FLOOR);
        let ctx = RunCtx::new(store, record, log, self.bus.clone(), rx).guarded(tx.clone(), reserve, floor);
        let runs = self.runs.clone();
        tokio::spawn(async move {
            orchestrator::run(ctx, runner, from, limits, tx).await;
            // Released before the run leaves `runs`: a wipe waiting on
            // `is_running` in this process can take it at once.
            drop(lock);
            runs.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        });
        Ok(())
    }
}
