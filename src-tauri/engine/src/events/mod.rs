//! The event stream every reader (window, bridge, CLI, log file) follows.
//! `seq` strictly increases per deployment so a reader resumes from the last
//! one it saw.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Preflight,
    ReserveDomain,
    TofuInit,
    TofuPlan,
    TofuApply,
    DnsCommit,
    CloudInit,
    Kubeconfig,
    Bootstrap,
    Console,
    Done,
    Wipe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The level a tofu log line (`type: log`) is shown at in the run's log;
    /// `None` for trace and debug, which the run leaves out.
    pub fn from_tofu(level: crate::tofu::messages::LogLevel) -> Option<LogLevel> {
        use crate::tofu::messages::LogLevel as Tofu;
        match level {
            Tofu::Trace | Tofu::Debug => None,
            Tofu::Info => Some(LogLevel::Info),
            Tofu::Warn => Some(LogLevel::Warn),
            Tofu::Error => Some(LogLevel::Error),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    PhaseStarted,
    Progress {
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
        label: String,
    },
    Resource {
        address: String,
        action: String,
        state: String,
        elapsed_s: f64,
    },
    Component {
        name: String,
        state: String,
        message: String,
    },
    Log {
        level: LogLevel,
        source: String,
        line: String,
    },
    PhaseFinished {
        duration_s: f64,
    },
    PhaseFailed {
        error: String,
        hint: String,
    },
    /// The operator's Cancel stopped the phase at a safe point (not a failure:
    /// Resume continues from it).
    PhaseCancelled,
    /// Where the event's region stands in a cluster phase of a multi-region
    /// run: `running`, `done`, `failed` or `stopped` (another region failed,
    /// or Cancel), with a sentence saying what it is doing or why.
    Region {
        state: String,
        detail: String,
    },
    Done {
        console_url: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProvisionEvent {
    pub deployment_id: String,
    #[ts(type = "number")]
    pub seq: u64,
    /// RFC 3339 UTC timestamp.
    pub at: String,
    pub phase: Phase,
    /// The region (its location) a multi-region run's cluster phases speak
    /// of; absent for the run as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub region: Option<String>,
    pub kind: EventKind,
}

/// In-process fan-out of events to every adapter. Persistence (events.jsonl
/// before broadcast) belongs to the deployment store.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<ProvisionEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        // Large enough for a tofu burst; a lagging reader re-reads from disk by seq.
        let (tx, _) = broadcast::channel(4096);
        EventBus { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ProvisionEvent> {
        self.tx.subscribe()
    }

    pub fn publish(&self, event: ProvisionEvent) {
        // No subscriber is fine: the event is already on disk.
        let _ = self.tx.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_events_in_order() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        for seq in 1..=3 {
            bus.publish(ProvisionEvent {
                deployment_id: "d".into(),
                seq,
                at: "2026-11-22T00:00:00Z".into(),
                phase: Phase::Preflight,
                region: None,
                kind: EventKind::PhaseStarted,
            });
        }
        for want in 1..=3 {
            assert_eq!(rx.recv().await.unwrap().seq, want);
        }
    }

    #[test]
    fn tofu_levels_map_to_the_log_and_trace_and_debug_are_left_out() {
        use crate::tofu::messages::LogLevel as Tofu;
        assert_eq!(LogLevel::from_tofu(Tofu::Trace), None);
        assert_eq!(LogLevel::from_tofu(Tofu::Debug), None);
        assert_eq!(LogLevel::from_tofu(Tofu::Info), Some(LogLevel::Info));
        assert_eq!(LogLevel::from_tofu(Tofu::Warn), Some(LogLevel::Warn));
        assert_eq!(LogLevel::from_tofu(Tofu::Error), Some(LogLevel::Error));
    }

    #[test]
    fn kinds_serialize_with_a_type_tag() {
        let v = serde_json::to_value(EventKind::Progress {
            done: 1,
            total: 2,
            label: "x".into(),
        })
        .unwrap();
        assert_eq!(v["type"], "progress");
    }
}
