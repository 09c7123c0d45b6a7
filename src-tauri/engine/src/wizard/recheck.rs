//! Checks belong to a mode: a token validated, a key generated, a name
//! found free or a registrar credential validated in demo mode (against the
//! simulated cloud, with secrets kept in memory) never counts in live mode,
//! and the reverse. A draft saved in one mode and opened in the other has
//! those checks undone, and the operator is told which to make again.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::WizardAnswers;
use super::model::{DomainMode, SshKeyMode};
use crate::settings::Mode;

/// A restored draft, with what must be checked again in this mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Draft {
    pub answers: WizardAnswers,
    /// The mode its checks were made in (`None`: saved by an older version).
    pub checked_in: Option<Mode>,
    /// What to do again, in the operator's words ("validate the Hetzner token").
    pub recheck: Vec<String>,
    /// The sentence that says so, when there is something to do again.
    pub note: Option<String>,
}

fn name(m: Mode) -> &'static str {
    match m {
        Mode::Demo => "demo",
        Mode::Live => "live",
    }
}

/// Undoes in `a` the checks made in `then` when the app is now in `now`.
/// A draft of unknown mode is trusted in demo mode only.
pub fn for_mode(mut a: WizardAnswers, then: Option<Mode>, now: Mode) -> Draft {
    let mut recheck = Vec::new();
    let other = match then {
        Some(m) => m != now,
        None => now == Mode::Live,
    };
    if other {
        let c = &mut a.credentials;
        if c.token_validated {
            c.token_validated = false;
            recheck.push("validate the Hetzner token".to_owned());
        }
        if c.cluster_token_validated {
            c.cluster_token_validated = false;
            recheck.push("validate the cluster's token".to_owned());
        }
        if c.ssh_key_mode == SshKeyMode::Generate && !c.ssh_public_key.is_empty() {
            c.ssh_public_key.clear();
            c.ssh_fingerprint.clear();
            recheck.push("generate the admin key".to_owned());
        }
        let d = &mut a.domain;
        if d.availability.take().is_some() && d.mode == DomainMode::Pool {
            recheck.push("check the name is free".to_owned());
        }
        if d.registrar_validated {
            d.registrar_validated = false;
            recheck.push("validate the registrar credential".to_owned());
        }
    }
    let mut d = Draft {
        answers: a,
        checked_in: then,
        recheck,
        note: None,
    };
    d.note = note(&d, now);
    d
}

/// "Your draft was restored. Its checks were made in demo mode, so in live
/// mode: validate the Hetzner token and generate the admin key again."
pub fn note(d: &Draft, now: Mode) -> Option<String> {
    if d.recheck.is_empty() {
        return None;
    }
    let then = d.checked_in.map(name).unwrap_or("another");
    let list = match d.recheck.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => String::new(),
    };
    Some(format!(
        "Your draft was restored. Its checks were made in {then} mode, so in {} mode: {list} again.",
        name(now)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked() -> WizardAnswers {
        let mut a = WizardAnswers::defaults();
        a.credentials.token_validated = true;
        a.credentials.ssh_public_key = "ssh-ed25519 AAAA x".into();
        a.credentials.ssh_fingerprint = "SHA256:x".into();
        a.domain.subdomain = "acme".into();
        a.domain.availability = Some(crate::pdm::Availability {
            subdomain: "acme".into(),
            pool: "omani.works".into(),
            fqdn: "acme.omani.works".into(),
            available: true,
            reason: None,
            reason_code: None,
            title: String::new(),
            message: String::new(),
            checked_locally: false,
        });
        a
    }

    #[test]
    fn checks_made_in_demo_are_undone_in_live_and_said() {
        let d = for_mode(checked(), Some(Mode::Demo), Mode::Live);
        assert!(!d.answers.credentials.token_validated);
        assert!(d.answers.credentials.ssh_public_key.is_empty());
        assert!(d.answers.domain.availability.is_none());
        assert_eq!(
            note(&d, Mode::Live).unwrap(),
            "Your draft was restored. Its checks were made in demo mode, so in live mode: validate the Hetzner token, generate the admin key and check the name is free again."
        );
        // And the reverse.
        let back = for_mode(checked(), Some(Mode::Live), Mode::Demo);
        assert_eq!(back.recheck.len(), 3);
    }

    #[test]
    fn the_same_mode_keeps_everything_and_an_old_draft_is_trusted_in_demo_only() {
        let d = for_mode(checked(), Some(Mode::Live), Mode::Live);
        assert_eq!(d.answers, checked());
        assert_eq!(note(&d, Mode::Live), None);
        assert!(for_mode(checked(), None, Mode::Demo).recheck.is_empty());
        assert_eq!(for_mode(checked(), None, Mode::Live).recheck.len(), 3);
        // A pasted key is the operator's own: it counts in every mode.
        let mut pasted = checked();
        pasted.credentials.ssh_key_mode = SshKeyMode::Paste;
        let d = for_mode(pasted, Some(Mode::Demo), Mode::Live);
        assert_eq!(d.answers.credentials.ssh_public_key, "ssh-ed25519 AAAA x");
    }
}
