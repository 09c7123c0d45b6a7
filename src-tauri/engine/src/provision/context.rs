//! What a phase gets to work with: the deployment's event log (every event
//! is appended, then published), the record, and cancellation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::events::{EventBus, EventKind, LogLevel, Phase};
use crate::store::deployments::{DeploymentRecord, Deployments, EventLog, now_rfc3339};
use crate::tofu::runner::CancelLevel;

/// Why a phase stopped: the tool's or provider's words, and what to do next.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseError {
    pub error: String,
    pub hint: String,
}

impl PhaseError {
    pub fn new(error: impl Into<String>, hint: impl Into<String>) -> Self {
        PhaseError {
            error: error.into(),
            hint: hint.into(),
        }
    }
}

/// Raised when the operator cancelled; the run stops at the next await.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

pub enum Stop {
    Failed(PhaseError),
    Cancelled,
}

impl From<PhaseError> for Stop {
    fn from(e: PhaseError) -> Self {
        Stop::Failed(e)
    }
}

impl From<Cancelled> for Stop {
    fn from(_: Cancelled) -> Self {
        Stop::Cancelled
    }
}

pub struct RunCtx {
    pub store: Deployments,
    pub record: DeploymentRecord,
    pub phase: Phase,
    log: Arc<Mutex<EventLog>>,
    bus: EventBus,
    /// How far Cancel went.
    cancel: watch::Receiver<CancelLevel>,
}

impl RunCtx {
    pub fn new(
        store: Deployments,
        record: DeploymentRecord,
        log: EventLog,
        bus: EventBus,
        cancel: watch::Receiver<CancelLevel>,
    ) -> Self {
        RunCtx {
            store,
            record,
            phase: Phase::Preflight,
            log: Arc::new(Mutex::new(log)),
            bus,
            cancel,
        }
    }

    /// Appends an event to `events.jsonl`, then sends it to every reader.
    pub fn emit(&self, kind: EventKind) {
        self.emit_in(self.phase, kind)
    }

    pub fn emit_in(&self, phase: Phase, kind: EventKind) {
        let appended = {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            log.append(phase, kind)
        };
        match appended {
            Ok(ev) => self.bus.publish(ev),
            // A full disk must not kill the run silently: say it in the app log.
            Err(e) => tracing::error!(error = %e, "event could not be appended"),
        }
    }

    /// A sender for events from other threads/tasks (tofu, SSH readers).
    pub fn emitter(&self) -> Emitter {
        Emitter {
            log: self.log.clone(),
            bus: self.bus.clone(),
            phase: self.phase,
        }
    }

    pub fn log(&self, level: LogLevel, source: &str, line: impl Into<String>) {
        self.emit(EventKind::Log {
            level,
            source: source.into(),
            line: line.into(),
        });
    }

    pub fn progress(&self, done: u64, total: u64, label: impl Into<String>) {
        self.emit(EventKind::Progress {
            done,
            total,
            label: label.into(),
        });
    }

    pub fn sync(&self) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let _ = log.sync();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.borrow().is_cancelled()
    }

    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Sleeps unless cancelled first.
    pub async fn sleep(&self, d: Duration) -> Result<(), Cancelled> {
        self.sleep_until(tokio::time::Instant::now() + d).await
    }

    /// Like `sleep`, until a point in time (no-op when it has passed).
    pub async fn sleep_until(&self, t: tokio::time::Instant) -> Result<(), Cancelled> {
        let mut rx = self.cancel.clone();
        if rx.borrow().is_cancelled() {
            return Err(Cancelled);
        }
        tokio::select! {
            _ = tokio::time::sleep_until(t) => Ok(()),
            _ = rx.wait_for(|l| l.is_cancelled()) => Err(Cancelled),
        }
    }

    /// The cancel level, for long operations: graceful asks them to stop
    /// gracefully, kill to stop now.
    pub fn cancel_signal(&self) -> watch::Receiver<CancelLevel> {
        self.cancel.clone()
    }

    /// Records the IPs `tofu output` (or the simulation) gave, says so in the log, saves.
    pub fn record_ips(&mut self, lbs: Vec<String>, cps: Vec<String>) {
        self.log(
            LogLevel::Info,
            "tofu",
            format!("Outputs: load_balancer_ips = {lbs:?}, control_plane_ips = {cps:?}"),
        );
        self.record.outputs.load_balancer_ips = lbs;
        self.record.outputs.control_plane_ips = cps;
        self.save();
    }

    /// Writes the record (atomic); failures are logged, the run goes on.
    pub fn save(&mut self) {
        self.record.updated_at = now_rfc3339();
        if let Err(e) = self.store.save(&self.record) {
            tracing::error!(error = %e, id = %self.record.id, "record could not be saved");
            self.log(
                LogLevel::Error,
                "app",
                format!("The deployment record could not be saved: {e}"),
            );
        }
    }
}

/// Emits into the run's log from anywhere (cloneable, thread-safe).
#[derive(Clone)]
pub struct Emitter {
    log: Arc<Mutex<EventLog>>,
    bus: EventBus,
    phase: Phase,
}

impl Emitter {
    pub fn emit(&self, kind: EventKind) {
        let appended = {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            log.append(self.phase, kind)
        };
        match appended {
            Ok(ev) => self.bus.publish(ev),
            Err(e) => tracing::error!(error = %e, "event could not be appended"),
        }
    }
}
