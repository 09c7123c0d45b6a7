//! The phases of a run, in order, with what the timeline calls them.

use crate::events::Phase;

pub const PHASES: [Phase; 10] = [
    Phase::Preflight,
    Phase::ReserveDomain,
    Phase::TofuInit,
    Phase::TofuPlan,
    Phase::TofuApply,
    Phase::DnsCommit,
    Phase::CloudInit,
    Phase::Kubeconfig,
    Phase::Bootstrap,
    Phase::Console,
];

pub fn title(p: Phase) -> &'static str {
    match p {
        Phase::Preflight => "Preflight checks",
        Phase::ReserveDomain => "Reserve the domain",
        Phase::TofuInit => "Prepare OpenTofu",
        Phase::TofuPlan => "Plan the cloud resources",
        Phase::TofuApply => "Create the cloud resources",
        Phase::DnsCommit => "Point DNS at the load balancer",
        Phase::CloudInit => "Install k3s, Cilium and Flux",
        Phase::Kubeconfig => "Fetch the kubeconfig",
        Phase::Bootstrap => "Install the platform components",
        Phase::Console => "Wait for the console",
        Phase::Done => "Done",
        Phase::Wipe => "Wipe",
    }
}

/// A run's order of its phases (`Phase` is the events' type; its order is the run's).
impl Phase {
    /// Where the phase comes in a run; `None` for Done and Wipe, which no run steps through.
    pub fn position(self) -> Option<usize> {
        PHASES.iter().position(|p| *p == self)
    }

    /// Whether a run goes through this phase before `later` (false when
    /// either is not a run phase).
    pub fn is_before(self, later: Phase) -> bool {
        matches!((self.position(), later.position()), (Some(a), Some(b)) if a < b)
    }
}

/// The phases from `from` on (a resume starts at the phase that stopped).
pub fn from(from: Phase) -> impl Iterator<Item = Phase> {
    PHASES.into_iter().skip(from.position().unwrap_or(0))
}

/// The Flux HelmReleases the bootstrap kit always installs, in order.
pub const BOOTSTRAP_KIT: [&str; 11] = [
    "cilium",
    "cert-manager",
    "flux",
    "crossplane",
    "sealed-secrets",
    "nats-jetstream",
    "openbao",
    "keycloak",
    "gitea",
    "powerdns",
    "catalyst-platform",
];

/// Every release a run waits for: the kit, then the selected components not in it.
pub fn expected_releases(components: &[String]) -> Vec<String> {
    let mut out: Vec<String> = BOOTSTRAP_KIT.iter().map(|s| s.to_string()).collect();
    for c in components {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_starts_at_the_stopped_phase() {
        let rest: Vec<_> = from(Phase::DnsCommit).collect();
        assert_eq!(rest.first(), Some(&Phase::DnsCommit));
        assert_eq!(rest.len(), 5);
        assert_eq!(from(Phase::Preflight).count(), 10);
    }

    #[test]
    fn phases_compare_in_run_order() {
        assert!(Phase::TofuApply.is_before(Phase::DnsCommit));
        assert!(!Phase::DnsCommit.is_before(Phase::DnsCommit));
        assert!(!Phase::CloudInit.is_before(Phase::DnsCommit));
        assert!(!Phase::Done.is_before(Phase::DnsCommit));
        assert!(!Phase::Preflight.is_before(Phase::Wipe));
        assert_eq!(Phase::Console.position(), Some(PHASES.len() - 1));
    }

    #[test]
    fn expected_releases_have_the_kit_first_and_no_duplicates() {
        let e = expected_releases(&["cilium".into(), "harbor".into()]);
        assert_eq!(e.len(), 12);
        assert_eq!(e[0], "cilium");
        assert_eq!(e[11], "harbor");
    }
}
