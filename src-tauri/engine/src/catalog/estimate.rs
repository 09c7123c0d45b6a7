//! Cost and footprint of the answers: €/h and €/month per region and in
//! total, and whether the selected components fit the chosen servers.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::components::{Footprint, catalog};
use super::offers::ServerOffers;
use crate::wizard::WizardAnswers;

/// k3s server overhead per control plane (API server, etcd, controllers).
pub const CONTROL_PLANE_OVERHEAD: Footprint = Footprint {
    memory_mib: 1024,
    cpu_millis: 500,
};
/// Kept free on every node for the kubelet and the OS.
pub const NODE_RESERVE: Footprint = Footprint {
    memory_mib: 512,
    cpu_millis: 250,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RegionEstimate {
    pub location: String,
    pub control_planes: u32,
    pub hourly_eur: f64,
    pub monthly_eur: f64,
    /// Allocatable resources of the region's servers.
    pub capacity: Footprint,
    /// What the components and control planes request in this region.
    pub needed: Footprint,
    pub fits: bool,
    /// Parts that could not be priced (type not orderable in the location).
    pub unpriced: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Estimate {
    pub regions: Vec<RegionEstimate>,
    pub hourly_eur: f64,
    pub monthly_eur: f64,
    /// Requests of the selected components alone.
    pub components: Footprint,
    /// How many components the run installs and counts: the selection and the
    /// bootstrap kit the cluster brings (some of it is not in the catalog).
    pub releases: u32,
    /// One sentence when a region is too small, for the Components step and Review.
    pub warning: Option<String>,
}

fn node_capacity(offers: &ServerOffers, server_type: &str) -> Footprint {
    match offers.server_type(server_type) {
        Some(t) => Footprint {
            memory_mib: ((t.memory_gb * 1024.0) as u32).saturating_sub(NODE_RESERVE.memory_mib),
            cpu_millis: (t.cores * 1000).saturating_sub(NODE_RESERVE.cpu_millis),
        },
        None => Footprint::default(),
    }
}

pub fn estimate(answers: &WizardAnswers, offers: &ServerOffers) -> Estimate {
    let components = catalog().footprint(&answers.components);
    let cps: u32 = if answers.ha { 3 } else { 1 };
    let mut regions = Vec::new();
    for r in &answers.regions {
        let mut unpriced = Vec::new();
        let mut price = |kind: &str, t: &str, n: u32| -> (f64, f64) {
            if n == 0 {
                return (0.0, 0.0);
            }
            let p = offers.server_type(t).and_then(|st| st.price_in(&r.location));
            match p {
                Some(p) => (p.hourly() * n as f64, p.monthly() * n as f64),
                None => {
                    unpriced.push(format!("{kind} {t}"));
                    (0.0, 0.0)
                }
            }
        };
        let (cp_h, cp_m) = price("control plane", &r.control_plane_type, cps);
        let (w_h, w_m) = price("worker", &r.worker_type, r.worker_count);
        let lb = offers
            .load_balancer
            .prices
            .iter()
            .find(|p| p.location == r.location);
        if lb.is_none() {
            unpriced.push(format!("load balancer {}", offers.load_balancer.name));
        }
        let (lb_h, lb_m) = lb.map(|p| (p.hourly(), p.monthly())).unwrap_or((0.0, 0.0));
        let hourly = cp_h + w_h + lb_h;
        let monthly = cp_m + w_m + lb_m;
        let cp_cap = node_capacity(offers, &r.control_plane_type);
        let w_cap = if r.worker_count > 0 {
            node_capacity(offers, &r.worker_type)
        } else {
            Footprint::default()
        };
        let capacity = Footprint {
            memory_mib: cp_cap.memory_mib * cps + w_cap.memory_mib * r.worker_count,
            cpu_millis: cp_cap.cpu_millis * cps + w_cap.cpu_millis * r.worker_count,
        };
        let needed = Footprint {
            memory_mib: components.memory_mib + CONTROL_PLANE_OVERHEAD.memory_mib * cps,
            cpu_millis: components.cpu_millis + CONTROL_PLANE_OVERHEAD.cpu_millis * cps,
        };
        let fits = capacity.memory_mib >= needed.memory_mib && capacity.cpu_millis >= needed.cpu_millis;
        regions.push(RegionEstimate {
            location: r.location.clone(),
            control_planes: cps,
            hourly_eur: round4(hourly),
            monthly_eur: round2(monthly),
            capacity,
            needed,
            fits,
            unpriced,
        });
    }
    let warning = regions.iter().enumerate().find(|(_, r)| !r.fits).map(|(i, r)| {
        format!(
            "The selected components need about {:.1} GB of memory and {:.1} vCPU per region; region {} ({}) offers {:.1} GB and {:.1} vCPU. Choose a larger server type, add workers, or select fewer components.",
            r.needed.memory_mib as f64 / 1024.0,
            r.needed.cpu_millis as f64 / 1000.0,
            i + 1,
            r.location,
            r.capacity.memory_mib as f64 / 1024.0,
            r.capacity.cpu_millis as f64 / 1000.0,
        )
    });
    Estimate {
        hourly_eur: round4(regions.iter().map(|r| r.hourly_eur).sum()),
        monthly_eur: round2(regions.iter().map(|r| r.monthly_eur).sum()),
        regions,
        components,
        releases: crate::provision::phases::expected_releases(&answers.components).len() as u32,
        warning,
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::offers::snapshot;
    use crate::wizard::model::Topology;

    #[test]
    fn default_answers_fit_the_default_control_plane() {
        let a = WizardAnswers::defaults();
        let e = estimate(&a, snapshot());
        assert_eq!(e.regions.len(), 1);
        assert!(e.regions[0].fits, "{:?}", e.regions[0]);
        assert!(e.warning.is_none());
        // cpx42 (0.0408) + lb11 (0.0088) in fsn1.
        assert!((e.hourly_eur - 0.0496).abs() < 1e-9, "{}", e.hourly_eur);
        assert!((e.monthly_eur - (25.49 + 5.39)).abs() < 1e-9, "{}", e.monthly_eur);
    }

    #[test]
    fn a_small_control_plane_gets_a_warning_naming_the_region() {
        let mut a = WizardAnswers::defaults();
        a.regions[0].control_plane_type = "cpx32".into();
        let e = estimate(&a, snapshot());
        assert!(!e.regions[0].fits);
        let w = e.warning.unwrap();
        assert!(w.contains("region 1 (fsn1)"), "{w}");
        // Workers make it fit again.
        a.regions[0].worker_count = 1;
        a.regions[0].worker_type = "cpx42".into();
        assert!(estimate(&a, snapshot()).regions[0].fits);
    }

    #[test]
    fn ha_triples_the_control_planes_and_triangle_sums_three_regions() {
        let mut a = WizardAnswers::defaults();
        a.topology = Topology::Triangle;
        a.ha = true;
        a.regions = ["fsn1", "nbg1", "hel1"]
            .iter()
            .map(|l| crate::wizard::model::Region {
                location: l.to_string(),
                ..a.regions[0].clone()
            })
            .collect();
        let e = estimate(&a, snapshot());
        assert_eq!(e.regions.len(), 3);
        assert!(e.regions.iter().all(|r| r.control_planes == 3));
        let one = 3.0 * 0.0408 + 0.0088;
        assert!((e.hourly_eur - 3.0 * one).abs() < 1e-6, "{}", e.hourly_eur);
    }

    #[test]
    fn types_not_sold_in_a_location_are_reported_unpriced() {
        let mut a = WizardAnswers::defaults();
        a.regions[0].location = "ash".into();
        a.regions[0].control_plane_type = "cx43".into();
        let e = estimate(&a, snapshot());
        assert_eq!(e.regions[0].unpriced, vec!["control plane cx43".to_string()]);
    }
}
