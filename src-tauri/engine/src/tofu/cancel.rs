//! Cancelling a tofu command: a level each Cancel raises, shared by whoever
//! may cancel (the window, the CLI's Ctrl-C) and watched by the runner.

use std::sync::Arc;

use tokio::sync::watch;

/// How far a cancel has gone. Each Cancel goes one level further: the first
/// asks for a graceful stop (tofu gets one SIGINT and saves its state), the
/// second kills; a kill stays a kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum CancelLevel {
    #[default]
    None,
    Graceful,
    Kill,
}

impl CancelLevel {
    /// The level after one more Cancel.
    pub fn escalated(self) -> CancelLevel {
        match self {
            CancelLevel::None => CancelLevel::Graceful,
            CancelLevel::Graceful | CancelLevel::Kill => CancelLevel::Kill,
        }
    }

    pub fn is_cancelled(self) -> bool {
        self != CancelLevel::None
    }
}

/// Shared by whoever may cancel a run (the window, the CLI's Ctrl-C).
#[derive(Debug, Clone)]
pub struct CancelHandle {
    tx: Arc<watch::Sender<CancelLevel>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        CancelHandle::new()
    }
}

impl CancelHandle {
    pub fn new() -> CancelHandle {
        CancelHandle {
            tx: Arc::new(watch::channel(CancelLevel::None).0),
        }
    }

    /// First call: graceful stop. Second call: kill.
    pub fn cancel(&self) {
        self.tx.send_modify(|l| *l = l.escalated());
    }

    pub fn level(&self) -> CancelLevel {
        *self.tx.borrow()
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<CancelLevel> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cancel_goes_one_level_further() {
        let c = CancelHandle::new();
        assert_eq!(c.level(), CancelLevel::None);
        c.cancel();
        assert_eq!(c.level(), CancelLevel::Graceful);
        c.clone().cancel();
        assert_eq!(c.level(), CancelLevel::Kill);
        c.cancel();
        assert_eq!(c.level(), CancelLevel::Kill);
        assert!(CancelLevel::None < CancelLevel::Graceful && CancelLevel::Graceful < CancelLevel::Kill);
    }
}
