//! The minimum-life guard: a Sovereign whose platform components are still
//! installing and whose run started less than 30 minutes ago is asked about
//! twice (an external wipe once destroyed a Sovereign converging at T+24 min).

use time::OffsetDateTime;

use crate::events::Phase;
use crate::store::deployments::{DeploymentRecord, RunStatus};

pub const MIN_LIFE_S: i64 = 30 * 60;

/// The run's age in seconds when it is still converging (bootstrap going,
/// or interrupted in it) and younger than `MIN_LIFE_S`.
pub fn still_converging(r: &DeploymentRecord, now: OffsetDateTime) -> Option<i64> {
    let in_bootstrap =
        r.phase == Some(Phase::Bootstrap) && matches!(r.status, RunStatus::Running | RunStatus::Interrupted);
    if !in_bootstrap {
        return None;
    }
    let started =
        OffsetDateTime::parse(&r.created_at, &time::format_description::well_known::Rfc3339).ok()?;
    let age = (now - started).whole_seconds().max(0);
    (age < MIN_LIFE_S).then_some(age)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::deployments::RunOutputs;
    use crate::wizard::WizardAnswers;

    fn rec(status: RunStatus, phase: Phase, created: &str) -> DeploymentRecord {
        DeploymentRecord {
            id: "d-1".into(),
            fqdn: "t2.omani.works".into(),
            demo: None,
            created_at: created.into(),
            updated_at: created.into(),
            status,
            phase: Some(phase),
            completed: vec![],
            answers: WizardAnswers::defaults(),
            outputs: RunOutputs::default(),
            failure: None,
            reservation: None,
            engine: None,
        }
    }

    #[test]
    fn only_a_young_run_in_bootstrap_is_converging() {
        let now = time::macros::datetime!(2026-11-23 03:00 UTC);
        let young = "2026-11-23T02:36:00Z";
        let old = "2026-11-23T02:29:59Z";
        assert_eq!(
            still_converging(&rec(RunStatus::Running, Phase::Bootstrap, young), now),
            Some(24 * 60)
        );
        assert!(still_converging(&rec(RunStatus::Interrupted, Phase::Bootstrap, young), now).is_some());
        assert_eq!(
            still_converging(&rec(RunStatus::Running, Phase::Bootstrap, old), now),
            None
        );
        assert_eq!(
            still_converging(&rec(RunStatus::Failed, Phase::Bootstrap, young), now),
            None
        );
        assert_eq!(
            still_converging(&rec(RunStatus::Running, Phase::TofuApply, young), now),
            None
        );
        assert_eq!(
            still_converging(&rec(RunStatus::Running, Phase::Bootstrap, "garbage"), now),
            None
        );
    }
}
