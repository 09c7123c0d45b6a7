//! The purge passes after `tofu destroy`: first by the Sovereign's label,
//! then by name and SSH key comment (what a partial apply, a lost state or
//! the cloud controller left without our label), each in dependency order.
//! A delete answered `resource_in_use` (a firewall still held by a server
//! whose delete Hetzner has not finished) is tried again with backoff.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::events::{EventKind, LogLevel};
use crate::hetzner::{ApiErrorKind, DeleteOutcome, HetznerClient, ResourceKind, ResourceRef};
use crate::provision::context::RunCtx;
use crate::settings::Settings;

use super::ownership::{self, Match};
use super::report::WipeReport;

/// Retries after `resource_in_use` (Hetzner needs up to ~90 s: 6+12+24+48).
pub const IN_USE_RETRIES: u32 = 4;

/// How patient the wipe is; tests shorten all of it through the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    pub sweep_deadline: Duration,
    pub poll: Duration,
    pub retry_base: Duration,
}

impl Timings {
    pub fn from_settings(s: &Settings) -> Timings {
        Timings {
            sweep_deadline: Duration::from_secs(s.overrides.wipe_sweep_deadline_s.unwrap_or(120)),
            poll: Duration::from_millis(s.overrides.wipe_poll_ms.unwrap_or(5000).max(10)),
            retry_base: Duration::from_millis(s.overrides.wipe_retry_base_ms.unwrap_or(6000)),
        }
    }

    /// The wait before retry `n` (0-based): base, 2×, 4×, 8×.
    pub fn backoff(&self, n: u32) -> Duration {
        self.retry_base * 2u32.saturating_pow(n.min(8))
    }
}

pub type Key = (ResourceKind, u64);

/// Deletes what belongs to one Sovereign and keeps the report up to date.
pub struct Purger<'a> {
    pub client: &'a HetznerClient,
    pub fqdn: String,
    pub timings: Timings,
    pub ctx: &'a RunCtx,
    pub report: &'a mut WipeReport,
    /// Deleted (or found gone) by this wipe: a later pass skips them.
    pub handled: HashSet<Key>,
    /// The last error a delete got, to say why an object was left.
    pub last_error: HashMap<Key, String>,
}

impl<'a> Purger<'a> {
    pub fn new(
        client: &'a HetznerClient,
        fqdn: &str,
        timings: Timings,
        ctx: &'a RunCtx,
        report: &'a mut WipeReport,
    ) -> Purger<'a> {
        Purger {
            client,
            fqdn: fqdn.to_owned(),
            timings,
            ctx,
            report,
            handled: HashSet::new(),
            last_error: HashMap::new(),
        }
    }

    fn log(&self, level: LogLevel, line: impl Into<String>) {
        self.ctx.log(level, "wipe", line);
    }

    /// Saves the report as it stands: a crash keeps what was done so far.
    pub fn save(&self) {
        if let Err(e) = self.report.save(&self.ctx.store, &self.ctx.record.id) {
            self.log(LogLevel::Warn, format!("The wipe report could not be saved: {e}"));
        }
    }

    /// Pass 1: everything carrying `catalyst.openova.io/sovereign=<fqdn>`.
    pub async fn by_label(&mut self) -> Result<usize, String> {
        let selector = ownership::label_selector(&self.fqdn);
        let mut n = 0;
        for kind in ResourceKind::PURGE_ORDER {
            let found = self
                .client
                .list_resources(kind, Some(&selector))
                .await
                .map_err(|e| {
                    format!(
                        "{} could not be listed: {}",
                        kind.collection(),
                        e.operator_message()
                    )
                })?;
            for r in found {
                if ownership::owned(&self.fqdn, &r) == Some(Match::Label) {
                    n += usize::from(self.delete(&r, Match::Label).await);
                } else if ownership::is_bastion(&r.name) {
                    self.log(
                        LogLevel::Info,
                        format!(
                            "Left {}: names a bastion, never deleted.",
                            ownership::describe(&r)
                        ),
                    );
                }
            }
        }
        Ok(n)
    }

    /// Passes 2–4: every object listed without a selector whose name starts
    /// `catalyst-<slug>` or `<slug>-`, or an SSH key whose comment names the FQDN.
    pub async fn by_name(&mut self) -> Result<usize, String> {
        let mut n = 0;
        for kind in ResourceKind::PURGE_ORDER {
            let found = self.client.list_resources(kind, None).await.map_err(|e| {
                format!(
                    "{} could not be listed: {}",
                    kind.collection(),
                    e.operator_message()
                )
            })?;
            for r in found {
                if self.handled.contains(&(r.kind, r.id)) {
                    continue;
                }
                if let Some(why) = ownership::owned(&self.fqdn, &r) {
                    n += usize::from(self.delete(&r, why).await);
                }
            }
        }
        Ok(n)
    }

    /// Deletes one object, retrying `resource_in_use` with backoff. True
    /// when Hetzner accepted the delete or no longer knew the object.
    pub async fn delete(&mut self, r: &ResourceRef, why: Match) -> bool {
        self.delete_with(r, why, IN_USE_RETRIES).await
    }

    /// `delete` with a given number of in-use retries (the sweep uses none:
    /// its next round is the retry, and it has a deadline to keep).
    pub async fn delete_with(&mut self, r: &ResourceRef, why: Match, retries: u32) -> bool {
        let key = (r.kind, r.id);
        let what = ownership::describe(r);
        // Written down before the DELETE goes out: if the process dies before
        // the answer, the next wipe still reports this object.
        let sent_before = self.report.pending.contains(&what);
        WipeReport::note(&mut self.report.pending, what.clone());
        self.save();
        for attempt in 0..=retries {
            match self.client.delete_resource(r.kind, r.id).await {
                Ok(outcome) => {
                    self.handled.insert(key);
                    self.last_error.remove(&key);
                    self.report.pending.retain(|p| *p != what);
                    // Gone now after a delete an earlier (crashed) attempt sent: that one deleted it.
                    if outcome == DeleteOutcome::Deleted || sent_before {
                        WipeReport::note(&mut self.report.deleted, what.clone());
                        self.ctx.emit(EventKind::Resource {
                            address: what.clone(),
                            action: "delete".into(),
                            state: "deleted".into(),
                            elapsed_s: 0.0,
                        });
                        self.log(
                            LogLevel::Info,
                            format!("Deleted {what} (found {}).", why.describe()),
                        );
                    }
                    self.save();
                    return true;
                }
                Err(e) if e.is(&ApiErrorKind::ResourceInUse) && attempt < retries => {
                    let wait = self.timings.backoff(attempt);
                    WipeReport::note(
                        &mut self.report.retried,
                        format!("{what}: resource_in_use, retry {}", attempt + 1),
                    );
                    self.log(
                        LogLevel::Info,
                        format!(
                            "{what} is still in use (a deleted server has not let go yet); trying again in {} ms.",
                            wait.as_millis()
                        ),
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    self.report.pending.retain(|p| *p != what);
                    let msg = e.operator_message();
                    self.log(LogLevel::Warn, format!("{what} could not be deleted: {msg}"));
                    self.last_error.insert(key, msg);
                    return false;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_like_hetzner_needs() {
        let t = Timings::from_settings(&Settings::default());
        let waits: Vec<u64> = (0..IN_USE_RETRIES).map(|n| t.backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![6, 12, 24, 48]);
        assert_eq!(t.sweep_deadline, Duration::from_secs(120));
        let fast = Timings::from_settings(&Settings {
            overrides: crate::settings::Overrides {
                wipe_retry_base_ms: Some(10),
                wipe_poll_ms: Some(0),
                ..Default::default()
            },
            ..Settings::default()
        });
        assert_eq!(fast.backoff(3), Duration::from_millis(80));
        assert_eq!(fast.poll, Duration::from_millis(10), "never a busy loop");
    }
}
