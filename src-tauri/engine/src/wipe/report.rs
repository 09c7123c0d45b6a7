//! The wipe report: what was deleted, retried and left (with why), whether
//! the cloud was proven empty. Saved as `wipe-report.json` after every step,
//! so a wipe that crashed is carried on by the next one with its history.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::deployments::Deployments;
use crate::store::write_atomic;

pub const REPORT_FILE: &str = "wipe-report.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct WipeReport {
    /// `<kind> <name> (id N)` per deleted resource; `tofu destroy: …` for what the state removed.
    pub deleted: Vec<String>,
    /// Deletes sent whose answer was never recorded (the wipe crashed
    /// meanwhile); a later clean sweep proves them gone and moves them to `deleted`.
    pub pending: Vec<String>,
    /// Deletes that had to be tried again, with the reason.
    pub retried: Vec<String>,
    /// What could not be removed, with why.
    pub left: Vec<String>,
    /// Steps that failed but did not stop the wipe (e.g. `tofu destroy`).
    pub errors: Vec<String>,
    /// True only when the final sweep found nothing left.
    pub clean: bool,
    pub dns_released: bool,
    pub tofu_destroyed: bool,
    /// The tofu directory and kubeconfig were removed (only after a clean sweep).
    pub local_cleaned: bool,
    /// How many wipes worked on this deployment to reach this report.
    pub attempts: u32,
    pub started_at: String,
    /// Empty while the wipe is going (or when it crashed).
    pub finished_at: String,
}

impl WipeReport {
    /// Adds a line once (a carried-on wipe meets the same names again).
    pub fn note(list: &mut Vec<String>, line: String) {
        if !list.contains(&line) {
            list.push(line);
        }
    }

    /// A clean sweep proved every pending delete done.
    pub fn settle_pending(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            Self::note(&mut self.deleted, p);
        }
    }

    fn path(store: &Deployments, id: &str) -> PathBuf {
        store.dir(id).join(REPORT_FILE)
    }

    pub fn load(store: &Deployments, id: &str) -> Option<WipeReport> {
        let bytes = crate::store::read_limited(&Self::path(store, id), crate::store::MAX_KEPT_FILE).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn save(&self, store: &Deployments, id: &str) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&Self::path(store, id), &bytes)
    }

    /// The report a new wipe starts from: the unfinished or unclean one a
    /// previous attempt left (its deletions stay part of the story), else new.
    pub fn carry_on(previous: Option<WipeReport>, now: &str) -> WipeReport {
        let mut r = match previous {
            Some(p) if !p.clean => p,
            _ => WipeReport::default(),
        };
        r.attempts += 1;
        if r.started_at.is_empty() {
            r.started_at = now.to_owned();
        }
        // What was left last time is looked at again.
        r.left.clear();
        r.clean = false;
        r.finished_at.clear();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclean_report_is_carried_on_and_a_clean_one_starts_over() {
        let mut old = WipeReport {
            deleted: vec!["server a (id 1)".into()],
            left: vec!["firewall b (id 2): in use".into()],
            attempts: 1,
            started_at: "t0".into(),
            ..Default::default()
        };
        let r = WipeReport::carry_on(Some(old.clone()), "t1");
        assert_eq!(r.deleted, old.deleted);
        assert!(r.left.is_empty());
        assert_eq!((r.attempts, r.started_at.as_str()), (2, "t0"));
        old.clean = true;
        let r = WipeReport::carry_on(Some(old), "t1");
        assert!(r.deleted.is_empty());
        assert_eq!((r.attempts, r.started_at.as_str()), (1, "t1"));
        let mut list = vec![];
        WipeReport::note(&mut list, "x".into());
        WipeReport::note(&mut list, "x".into());
        assert_eq!(list.len(), 1);
    }
}
