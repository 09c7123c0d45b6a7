//! Changes that other answers depend on. Each resets only what depends on
//! it (topology → region cards, location → types not sold there, domain mode
//! → the other mode's fields, registrar → its validation), so the window,
//! the bridge and the CLI all behave the same.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::model::{DomainMode, MAX_WORKERS, Region, Topology, WizardAnswers};
use crate::catalog::{ServerOffers, catalog};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WizardChange {
    Topology { topology: Topology },
    Location { region: u32, location: String },
    ControlPlaneType { region: u32, server_type: String },
    WorkerCount { region: u32, count: u32 },
    DomainMode { mode: DomainMode },
    Registrar { registrar: Option<String> },
    ByoDomain { domain: String },
    AddComponent { id: String },
    RemoveComponent { id: String },
    ResetComponents,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChangeArgs {
    pub answers: WizardAnswers,
    pub change: WizardChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChangeOutcome {
    pub answers: WizardAnswers,
    /// Components added or removed along with the one asked for.
    pub also_changed: Vec<String>,
    /// A sentence for the operator when something else was reset.
    pub note: Option<String>,
}

/// The server type a new or moved region gets when the current one cannot be
/// ordered there: the default if sold, else the first regular type sold.
fn fallback_type(offers: &ServerOffers, location: &str, wanted: &str) -> Option<String> {
    let sold = |t: &str| {
        offers
            .server_type(t)
            .is_some_and(|s| s.price_in(location).is_some())
    };
    if sold(wanted) {
        return Some(wanted.to_owned());
    }
    if sold("cpx42") {
        return Some("cpx42".into());
    }
    offers
        .server_types
        .iter()
        .find(|t| t.cores >= 8 && t.price_in(location).is_some())
        .map(|t| t.name.clone())
}

pub fn apply(
    mut a: WizardAnswers,
    change: WizardChange,
    offers: &ServerOffers,
) -> Result<ChangeOutcome, String> {
    let mut note = None;
    let mut also = Vec::new();
    let region_mut = |a: &mut WizardAnswers, i: u32| -> Result<usize, String> {
        let i = i as usize;
        if i < a.regions.len() {
            Ok(i)
        } else {
            Err(format!("There is no region {}.", i + 1))
        }
    };
    match change {
        WizardChange::Topology { topology } => {
            if topology != a.topology {
                let want = topology.region_count();
                a.regions.truncate(want);
                let template = a
                    .regions
                    .first()
                    .cloned()
                    .unwrap_or_else(|| WizardAnswers::defaults().regions[0].clone());
                while a.regions.len() < want {
                    let used: Vec<String> = a.regions.iter().map(|r| r.location.clone()).collect();
                    let location = offers
                        .locations
                        .iter()
                        .map(|l| l.name.clone())
                        .find(|l| !used.contains(l))
                        .unwrap_or_default();
                    let cp =
                        fallback_type(offers, &location, &template.control_plane_type).unwrap_or_default();
                    a.regions.push(Region {
                        location,
                        control_plane_type: cp,
                        worker_count: 0,
                        worker_type: String::new(),
                    });
                }
                a.topology = topology;
            }
        }
        WizardChange::Location { region, location } => {
            let i = region_mut(&mut a, region)?;
            let r = &mut a.regions[i];
            r.location = location.clone();
            if offers.location(&location).is_some() {
                for (kind, t) in [
                    ("control plane", &mut r.control_plane_type),
                    ("workers", &mut r.worker_type),
                ] {
                    if t.is_empty() {
                        continue;
                    }
                    if let Some(new) = fallback_type(offers, &location, t)
                        && new != *t
                    {
                        note = Some(format!(
                            "{t} is not sold in {location}, so the {kind} now use {new}."
                        ));
                        *t = new;
                    }
                }
            }
        }
        WizardChange::ControlPlaneType { region, server_type } => {
            let i = region_mut(&mut a, region)?;
            a.regions[i].control_plane_type = server_type;
        }
        WizardChange::WorkerCount { region, count } => {
            let i = region_mut(&mut a, region)?;
            let r = &mut a.regions[i];
            r.worker_count = count.min(MAX_WORKERS);
            if r.worker_count == 0 {
                r.worker_type.clear();
            } else if r.worker_type.is_empty() {
                r.worker_type = r.control_plane_type.clone();
            }
        }
        WizardChange::DomainMode { mode } => {
            // What was typed for the other modes is kept (switching there and
            // back finds it again); only the mode's answer is read. A check
            // made for one mode never counts in another.
            let d = &mut a.domain;
            if d.mode != mode {
                d.availability = None;
                d.registrar_validated = false;
            }
            d.mode = mode;
        }
        WizardChange::Registrar { registrar } => {
            if a.domain.registrar != registrar {
                a.domain.registrar = registrar;
                a.domain.registrar_validated = false;
            }
        }
        WizardChange::ByoDomain { domain } => {
            if a.domain.byo_domain != domain {
                a.domain.byo_domain = domain;
                a.domain.registrar_validated = false;
            }
        }
        WizardChange::AddComponent { id } => {
            let s = catalog().add(&a.components, &id)?;
            a.components = s.selected;
            also = s.also_changed;
        }
        WizardChange::RemoveComponent { id } => {
            let s = catalog().removal(&a.components, &id)?;
            a.components = s.selected;
            also = s.also_changed;
        }
        WizardChange::ResetComponents => {
            a.components = catalog().default_selection();
        }
    }
    Ok(ChangeOutcome {
        answers: a,
        also_changed: also,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::snapshot;

    fn run(a: WizardAnswers, c: WizardChange) -> ChangeOutcome {
        apply(a, c, snapshot()).unwrap()
    }

    #[test]
    fn topology_resizes_regions_and_keeps_the_first() {
        let mut a = WizardAnswers::defaults();
        a.regions[0].worker_count = 2;
        a.regions[0].worker_type = "cpx32".into();
        a.organisation.name = "Kept".into();
        let out = run(
            a,
            WizardChange::Topology {
                topology: Topology::Triangle,
            },
        )
        .answers;
        assert_eq!(out.regions.len(), 3);
        assert_eq!(out.regions[0].worker_count, 2, "region 1 untouched");
        let locs: Vec<_> = out.regions.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(locs, ["fsn1", "nbg1", "hel1"]);
        assert_eq!(out.organisation.name, "Kept", "unrelated answers stay");
        let back = run(
            out,
            WizardChange::Topology {
                topology: Topology::Solo,
            },
        )
        .answers;
        assert_eq!(back.regions.len(), 1);
        assert_eq!(back.regions[0].worker_count, 2);
    }

    #[test]
    fn moving_to_a_location_without_the_type_swaps_it_and_says_so() {
        let mut a = WizardAnswers::defaults();
        a.regions[0].control_plane_type = "cx43".into();
        let out = run(
            a,
            WizardChange::Location {
                region: 0,
                location: "ash".into(),
            },
        );
        assert_eq!(out.answers.regions[0].control_plane_type, "cpx42");
        assert_eq!(
            out.note.unwrap(),
            "cx43 is not sold in ash, so the control plane now use cpx42."
        );
        let out = run(
            out.answers,
            WizardChange::Location {
                region: 0,
                location: "hel1".into(),
            },
        );
        assert!(out.note.is_none(), "cpx42 is sold in hel1");
        assert!(
            apply(
                out.answers,
                WizardChange::Location {
                    region: 5,
                    location: "hel1".into()
                },
                snapshot()
            )
            .is_err()
        );
    }

    #[test]
    fn worker_count_is_clamped_and_sets_or_clears_the_type() {
        let a = WizardAnswers::defaults();
        let out = run(a, WizardChange::WorkerCount { region: 0, count: 99 }).answers;
        assert_eq!(out.regions[0].worker_count, 50);
        assert_eq!(out.regions[0].worker_type, "cpx42");
        let out = run(out, WizardChange::WorkerCount { region: 0, count: 0 }).answers;
        assert_eq!(out.regions[0].worker_type, "");
    }

    #[test]
    fn domain_mode_keeps_what_was_typed_and_drops_the_checks() {
        let mut a = WizardAnswers::defaults();
        a.domain.subdomain = "omantel".into();
        a.domain.admin_email = "ops@omantel.om".into();
        let out = run(
            a,
            WizardChange::DomainMode {
                mode: DomainMode::ByoApi,
            },
        )
        .answers;
        assert_eq!(out.domain.subdomain, "omantel");
        assert_eq!(out.fqdn(), None);
        assert_eq!(out.domain.admin_email, "ops@omantel.om");
        let mut a = out;
        a.domain.byo_domain = "acme.com".into();
        a.domain.registrar = Some("ovh".into());
        a.domain.registrar_validated = true;
        let out = run(
            a.clone(),
            WizardChange::Registrar {
                registrar: Some("ovh".into()),
            },
        )
        .answers;
        assert!(
            out.domain.registrar_validated,
            "same registrar keeps the validation"
        );
        let out = run(
            out,
            WizardChange::Registrar {
                registrar: Some("godaddy".into()),
            },
        )
        .answers;
        assert!(!out.domain.registrar_validated);
        let out = run(
            a.clone(),
            WizardChange::ByoDomain {
                domain: "other.com".into(),
            },
        )
        .answers;
        assert!(!out.domain.registrar_validated);
        let out = run(
            a,
            WizardChange::DomainMode {
                mode: DomainMode::Pool,
            },
        )
        .answers;
        // Kept for a way back, but no check made for BYO counts in pool mode.
        assert_eq!(out.domain.byo_domain, "acme.com");
        assert!(!out.domain.registrar_validated);
    }

    #[test]
    fn switching_domain_mode_and_back_keeps_the_subdomain() {
        let mut a = WizardAnswers::defaults();
        a.domain.subdomain = "omantel".into();
        let byo = run(
            a,
            WizardChange::DomainMode {
                mode: DomainMode::ByoManual,
            },
        )
        .answers;
        assert_eq!(byo.fqdn(), None, "BYO mode reads its own field only");
        let back = run(
            byo,
            WizardChange::DomainMode {
                mode: DomainMode::Pool,
            },
        )
        .answers;
        assert_eq!(back.domain.subdomain, "omantel");
        assert_eq!(back.domain.availability, None, "asked again");
    }

    #[test]
    fn leaving_pool_mode_forgets_the_availability_answer() {
        let mut a = WizardAnswers::defaults();
        a.domain.subdomain = "omantel".into();
        a.domain.availability = Some(crate::demo::pdm::check("omani.works", "omantel"));
        let same = run(
            a.clone(),
            WizardChange::DomainMode {
                mode: DomainMode::Pool,
            },
        )
        .answers;
        assert!(same.domain.availability.is_some(), "same mode keeps it");
        let out = run(
            a,
            WizardChange::DomainMode {
                mode: DomainMode::ByoManual,
            },
        )
        .answers;
        assert_eq!(out.domain.availability, None);
    }

    #[test]
    fn components_add_remove_and_reset() {
        let a = WizardAnswers::defaults();
        let out = run(a, WizardChange::AddComponent { id: "specter".into() });
        assert!(out.also_changed.contains(&"ferretdb".to_string()));
        let out2 = run(
            out.answers,
            WizardChange::RemoveComponent {
                id: "ferretdb".into(),
            },
        );
        assert_eq!(out2.also_changed, vec!["librechat".to_string()]);
        let out3 = run(out2.answers, WizardChange::ResetComponents);
        assert_eq!(out3.answers.components, catalog().default_selection());
        assert!(
            apply(
                out3.answers,
                WizardChange::RemoveComponent { id: "flux".into() },
                snapshot()
            )
            .is_err()
        );
    }
}
