//! A saved mode takes effect at once when nothing is going on: the secret
//! store is swapped (memory for demo, the OS keyring for live), live prices
//! are dropped, and the adapters hear of it. While a run or a wipe goes on,
//! or when `--demo` was asked for, it waits, and says why.

use std::sync::Arc;

use super::Mode;
use crate::Engine;
use crate::secrets::{self, SecretStore};

impl Engine {
    /// What keeps the saved mode from taking effect now, in one sentence.
    pub fn mode_blocker(&self) -> Option<String> {
        if self.forced_demo {
            return Some(
                "The app was started with --demo, so it stays in demo mode until it is started without it."
                    .into(),
            );
        }
        let mut busy: Vec<String> = self
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        busy.extend(
            self.wipes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        busy.sort();
        busy.dedup();
        (!busy.is_empty()).then(|| {
            format!(
                "A run or wipe is going on ({}); the saved mode takes effect when you save again after it ends, or at the next start.",
                busy.join(", ")
            )
        })
    }

    /// Brings the mode in effect to `wanted`; the reason when it cannot now.
    pub(crate) fn switch_mode(&self, wanted: Mode) -> Option<String> {
        if wanted == self.mode() {
            return None;
        }
        if let Some(why) = self.mode_blocker() {
            return Some(why);
        }
        // A check made with one store never counts in the other (the draft's
        // recheck undoes it in the wizard): each mode gets a store of its own.
        if !self.secrets_given {
            let store: Arc<dyn SecretStore> = match wanted {
                Mode::Demo => Arc::new(secrets::MemoryStore::new()),
                Mode::Live => Arc::new(secrets::OsKeyring::detect(secrets::store::KEYRING_SERVICE)),
            };
            *self.secrets.write().unwrap_or_else(|e| e.into_inner()) = store;
        }
        *self.live_offers.write().unwrap_or_else(|e| e.into_inner()) = None;
        self.mode.send_replace(wanted);
        tracing::info!(?wanted, "mode changed");
        None
    }
}
