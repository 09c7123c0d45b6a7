//! SIGINT/SIGTERM counting, for tofu's graceful stop and its hard kill on the second signal.
use crate::*;

#[derive(Default)]
pub(crate) struct Interrupts {
    pub(crate) count: AtomicU32,
    pub(crate) notify: tokio::sync::Notify,
}

impl Interrupts {
    pub(crate) fn count(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }

    /// Resolves once at least `n` interrupts have arrived.
    pub(crate) async fn reached(&self, n: u32) {
        loop {
            let waiter = self.notify.notified();
            if self.count() >= n {
                return;
            }
            waiter.await;
        }
    }
}

pub(crate) fn watch_interrupts() -> Arc<Interrupts> {
    let ints = Arc::new(Interrupts::default());
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
            if let Ok(mut sig) = signal(kind) {
                let ints = ints.clone();
                tokio::spawn(async move {
                    while sig.recv().await.is_some() {
                        ints.count.fetch_add(1, Ordering::SeqCst);
                        ints.notify.notify_waiters();
                    }
                });
            }
        }
    }
    ints
}
