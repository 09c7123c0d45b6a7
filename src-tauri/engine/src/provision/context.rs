//! What a phase gets to work with: the deployment's event log (every event
//! is appended, then published), the record, and cancellation. A write that
//! fails (a full disk, a read-only mount) is a fault of the run: the event
//! is still sent to readers, the run is stopped at its next safe point as a
//! first Cancel stops it, and the orchestrator records why.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::events::{EventBus, EventKind, LogLevel, Phase};
use crate::store::deployments::{DeploymentRecord, Deployments, EventLog, now_rfc3339};
use crate::store::space::Reserve;
use crate::tofu::runner::CancelLevel;

/// Why a phase stopped: the tool's or provider's words, and what to do next.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseError {
    pub error: String,
    pub hint: String,
    /// The kind, where known (a refused token, a quota, a taken name).
    pub code: Option<crate::error::ErrorCode>,
}

impl PhaseError {
    pub fn new(error: impl Into<String>, hint: impl Into<String>) -> Self {
        PhaseError {
            error: error.into(),
            hint: hint.into(),
            code: None,
        }
    }

    pub fn with_code(mut self, code: crate::error::ErrorCode) -> Self {
        self.code = Some(code);
        self
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

/// The first write of a run that failed: what, and the system's words.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteFault {
    pub what: String,
    pub error: String,
    pub disk_full: bool,
}

impl WriteFault {
    /// "Disk full: the event log could not be written (No space left on device)."
    pub fn sentence(&self) -> String {
        let lead = if self.disk_full {
            "Disk full"
        } else {
            "Cannot write"
        };
        format!("{lead}: {} could not be written ({}).", self.what, self.error)
    }
}

/// A run's write faults, shared by its context and emitters.
struct Faults {
    first: Mutex<Option<WriteFault>>,
    /// `first` is set: read on every event without taking the lock.
    faulted: std::sync::atomic::AtomicBool,
    /// Pulled like a first Cancel on the first fault; a wipe has none (it is
    /// never stopped half-way).
    stopper: Option<Arc<watch::Sender<CancelLevel>>>,
    /// Given back on the first fault, for the last words of the run.
    reserve: Mutex<Option<Reserve>>,
}

impl Faults {
    fn get(&self) -> Option<WriteFault> {
        self.first.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Notes a failed write; true for the run's first one.
    fn raise(&self, what: &str, e: &std::io::Error) -> bool {
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_some() {
            return false;
        }
        let fault = WriteFault {
            what: what.to_owned(),
            error: e.to_string(),
            disk_full: is_disk_full(e),
        };
        tracing::error!(what, error = %e, "a write of the run failed; stopping it");
        *first = Some(fault);
        self.faulted.store(true, std::sync::atomic::Ordering::Release);
        drop(first);
        if let Some(mut r) = self.reserve.lock().unwrap_or_else(|e| e.into_inner()).take() {
            r.release();
        }
        if let Some(stop) = &self.stopper {
            stop.send_if_modified(|l| {
                let first = *l == CancelLevel::None;
                if first {
                    *l = CancelLevel::Graceful;
                }
                first
            });
        }
        true
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Appends `kind` to the log and sends it; after a fault, what is only
/// chatter (info and debug lines) is sent but not written, so the space
/// given back stays for the events that say how the run ended.
fn emit_into(
    log: &Mutex<EventLog>,
    bus: &EventBus,
    faults: &Faults,
    phase: Phase,
    region: Option<&str>,
    kind: EventKind,
) {
    let region = region.map(str::to_owned);
    let chatter = matches!(&kind, EventKind::Log { level, .. } if !matches!(level, LogLevel::Warn | LogLevel::Error))
        || matches!(kind, EventKind::Progress { .. });
    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
    if chatter && faults.faulted.load(std::sync::atomic::Ordering::Acquire) {
        bus.publish(log.unwritten(phase, region, kind));
        return;
    }
    let (ev, written) = log.append_or_keep(phase, region.clone(), kind);
    if let Err(e) = written
        && faults.raise("the event log", &e)
    {
        // The reserve was just given back: the event, then why the run stops.
        let _ = log.rewrite(&ev);
        bus.publish(ev);
        let fault = faults.get().map(|f| f.sentence()).unwrap_or_default();
        let (why, _) = log.append_or_keep(
            phase,
            region,
            EventKind::Log {
                level: LogLevel::Error,
                source: "app".into(),
                line: format!("{fault} The run stops at the next safe point."),
            },
        );
        bus.publish(why);
        return;
    }
    bus.publish(ev);
}

pub struct RunCtx {
    pub store: Deployments,
    pub record: DeploymentRecord,
    pub phase: Phase,
    log: Arc<Mutex<EventLog>>,
    bus: EventBus,
    /// How far Cancel went.
    cancel: watch::Receiver<CancelLevel>,
    faults: Arc<Faults>,
    /// Free space every phase needs before it starts (`store::space`); 0: unchecked.
    space_floor: u64,
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
            faults: Arc::new(Faults {
                first: Mutex::new(None),
                faulted: Default::default(),
                stopper: None,
                reserve: Mutex::new(None),
            }),
            space_floor: 0,
        }
    }

    /// A run's context: a failed write pulls `stopper` like a first Cancel,
    /// `reserve` is given back for the run's last words, and each phase
    /// needs `space_floor` bytes free (plus its own margin) to start.
    pub fn guarded(
        mut self,
        stopper: Arc<watch::Sender<CancelLevel>>,
        reserve: Reserve,
        space_floor: u64,
    ) -> Self {
        self.faults = Arc::new(Faults {
            first: Mutex::new(None),
            faulted: Default::default(),
            stopper: Some(stopper),
            reserve: Mutex::new(Some(reserve)),
        });
        self.space_floor = space_floor;
        self
    }

    /// Why the current phase cannot start for want of disk space, if so.
    pub fn space_shortfall(&self) -> Option<String> {
        if self.space_floor == 0 {
            return None;
        }
        crate::store::space::shortfall(
            &self.store.dir(&self.record.id),
            self.phase,
            self.space_floor,
            self.record.demo.is_none(),
        )
    }

    /// The run's first failed write, if one failed.
    pub fn fault(&self) -> Option<WriteFault> {
        self.faults.get()
    }

    /// Appends an event to `events.jsonl`, then sends it to every reader.
    pub fn emit(&self, kind: EventKind) {
        self.emit_in(self.phase, kind)
    }

    pub fn emit_in(&self, phase: Phase, kind: EventKind) {
        emit_into(&self.log, &self.bus, &self.faults, phase, None, kind)
    }

    /// A sender for events from other threads/tasks (tofu, SSH readers).
    pub fn emitter(&self) -> Emitter {
        Emitter {
            log: self.log.clone(),
            bus: self.bus.clone(),
            faults: self.faults.clone(),
            phase: self.phase,
            region: None,
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
        if let Err(e) = log.sync() {
            drop(log);
            self.faults.raise("the event log", &e);
        }
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

    /// Writes the record (atomic). A failure is a fault of the run: it
    /// stops at the next safe point, and the event log says why.
    pub fn save(&mut self) {
        self.record.updated_at = now_rfc3339();
        if let Err(e) = self.store.save(&self.record) {
            tracing::error!(error = %e, id = %self.record.id, "record could not be saved");
            if self.faults.raise("the deployment record", &e) {
                // The reserve was just given back: this save may go through now.
                let _ = self.store.save(&self.record);
                self.log(
                    LogLevel::Error,
                    "app",
                    format!(
                        "{} The run stops at the next safe point.",
                        self.fault().map(|f| f.sentence()).unwrap_or_default()
                    ),
                );
            }
        }
    }
}

/// Emits into the run's log from anywhere (cloneable, thread-safe).
#[derive(Clone)]
pub struct Emitter {
    log: Arc<Mutex<EventLog>>,
    bus: EventBus,
    faults: Arc<Faults>,
    phase: Phase,
    region: Option<String>,
}

impl Emitter {
    pub fn emit(&self, kind: EventKind) {
        emit_into(
            &self.log,
            &self.bus,
            &self.faults,
            self.phase,
            self.region.as_deref(),
            kind,
        )
    }

    /// The same log and phase, each event marked as being about `location`.
    pub fn in_region(&self, location: &str) -> Emitter {
        Emitter {
            region: Some(location.to_owned()),
            ..self.clone()
        }
    }

    pub fn log(&self, level: LogLevel, source: &str, line: impl Into<String>) {
        self.emit(EventKind::Log {
            level,
            source: source.into(),
            line: line.into(),
        })
    }

    /// Where this emitter's region stands (see `EventKind::Region`).
    pub fn region_state(&self, state: &str, detail: impl Into<String>) {
        self.emit(EventKind::Region {
            state: state.into(),
            detail: detail.into(),
        })
    }
}
