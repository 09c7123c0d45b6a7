//! The pool-domain-manager as demo mode simulates it: PDM's own label rule,
//! and a few names that are always taken so a presenter can show the
//! "already taken" path.

use crate::pdm::{Availability, CheckReason, check_label, fqdn};

/// Names the simulated pool treats as held by live Sovereigns.
pub const TAKEN: &[&str] = &["demo", "acme", "omantel", "taken"];

pub fn check(pool: &str, sub: &str) -> Availability {
    let shown = sub.trim().to_lowercase();
    let name = fqdn(&shown, pool);
    let unavailable = |reason: CheckReason, message: String, local: bool| Availability {
        subdomain: shown.clone(),
        pool: pool.to_owned(),
        fqdn: name.clone(),
        available: false,
        reason: Some(reason),
        reason_code: None,
        title: reason.title().to_owned(),
        message,
        checked_locally: local,
    };
    match check_label(sub) {
        Err(e) => {
            let reason = match e {
                crate::pdm::LabelError::Reserved { .. } => CheckReason::Reserved,
                _ => CheckReason::InvalidFormat,
            };
            unavailable(reason, e.to_string(), true)
        }
        Ok(label) if TAKEN.contains(&label.as_str()) => unavailable(
            CheckReason::ActiveState,
            CheckReason::ActiveState.sentence(&name, pool),
            false,
        ),
        Ok(label) => Availability {
            message: format!("\"{name}\" is available (demo pool: nothing is reserved for real)."),
            title: "Subdomain is available".into(),
            subdomain: label,
            pool: pool.to_owned(),
            fqdn: name.clone(),
            available: true,
            reason: None,
            reason_code: None,
            checked_locally: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_pool_answers_like_pdm() {
        assert!(check("omani.works", "omantel-prod").available);
        let taken = check("omani.works", "omantel");
        assert_eq!(taken.reason, Some(CheckReason::ActiveState));
        assert_eq!(
            check("omani.works", "console").reason,
            Some(CheckReason::Reserved)
        );
        let bad = check("omani.works", "9x");
        assert_eq!(bad.reason, Some(CheckReason::InvalidFormat));
        assert!(bad.checked_locally);
    }
}
