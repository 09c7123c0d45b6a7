//! What can be ordered where, and at what price. Until a token is validated
//! the answer comes from an embedded, dated snapshot of Hetzner's catalog;
//! after, from the live API (the Hetzner client converts into these types).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OfferSource {
    /// Embedded snapshot, with the date it was taken.
    Snapshot { taken_on: String },
    /// Read from the Hetzner API with the operator's token.
    Live { fetched_at: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Location {
    pub name: String,
    pub city: String,
    pub country: String,
    pub network_zone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Price {
    pub location: String,
    /// Net EUR, as strings in Hetzner's format; parsed with `hourly()`/`monthly()`.
    pub hourly_eur: String,
    pub monthly_eur: String,
}

impl Price {
    pub fn hourly(&self) -> f64 {
        self.hourly_eur.parse().unwrap_or(0.0)
    }
    pub fn monthly(&self) -> f64 {
        self.monthly_eur.parse().unwrap_or(0.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServerType {
    pub name: String,
    pub cores: u32,
    pub memory_gb: f64,
    pub disk_gb: u32,
    pub cpu_type: String,
    pub architecture: String,
    pub category: String,
    /// One entry per location where the type can be ordered.
    pub prices: Vec<Price>,
}

impl ServerType {
    pub fn price_in(&self, location: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.location == location)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LoadBalancerType {
    pub name: String,
    pub prices: Vec<Price>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServerOffers {
    pub source: OfferSource,
    pub locations: Vec<Location>,
    pub server_types: Vec<ServerType>,
    pub load_balancer: LoadBalancerType,
}

impl ServerOffers {
    pub fn server_type(&self, name: &str) -> Option<&ServerType> {
        self.server_types.iter().find(|t| t.name == name)
    }

    pub fn location(&self, name: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.name == name)
    }
}

#[derive(Deserialize)]
struct SnapshotFile {
    taken_on: String,
    locations: Vec<Location>,
    server_types: Vec<ServerType>,
    load_balancer: LoadBalancerType,
}

const SNAPSHOT_JSON: &str = include_str!("hetzner-snapshot.json");

/// The embedded snapshot.
pub fn snapshot() -> &'static ServerOffers {
    static SNAP: OnceLock<ServerOffers> = OnceLock::new();
    SNAP.get_or_init(|| {
        let f: SnapshotFile =
            serde_json::from_str(SNAPSHOT_JSON).expect("embedded hetzner-snapshot.json is valid (tested)");
        ServerOffers {
            source: OfferSource::Snapshot { taken_on: f.taken_on },
            locations: f.locations,
            server_types: f.server_types,
            load_balancer: f.load_balancer,
        }
    })
}

/// The live catalog from a token check: only types that are not deprecated,
/// priced only where Hetzner says they can be ordered now.
pub fn from_token_check(check: &crate::hetzner::TokenCheck, fetched_at: String) -> ServerOffers {
    let price = |p: &crate::hetzner::LocationPrice| Price {
        location: p.location.clone(),
        hourly_eur: p.hourly.net.clone(),
        monthly_eur: p.monthly.net.clone(),
    };
    let server_types = check
        .server_types
        .iter()
        .filter(|t| !t.deprecated)
        .map(|t| ServerType {
            name: t.name.clone(),
            cores: t.cores,
            memory_gb: t.memory_gb,
            disk_gb: t.disk_gb as u32,
            cpu_type: t.cpu_type.clone(),
            architecture: t.architecture.clone(),
            category: t.category.clone().unwrap_or_default(),
            prices: t
                .prices
                .iter()
                .filter(|p| t.available_in(&p.location))
                .map(price)
                .collect(),
        })
        .collect();
    // The module uses the smallest load balancer type.
    let lb = check
        .load_balancer_types
        .iter()
        .find(|l| l.name == "lb11")
        .or(check.load_balancer_types.first());
    ServerOffers {
        source: OfferSource::Live { fetched_at },
        locations: check
            .locations
            .iter()
            .map(|l| Location {
                name: l.name.clone(),
                city: l.city.clone(),
                country: l.country.clone(),
                network_zone: l.network_zone.clone(),
            })
            .collect(),
        server_types,
        load_balancer: LoadBalancerType {
            name: lb.map(|l| l.name.clone()).unwrap_or_else(|| "lb11".into()),
            prices: lb
                .map(|l| l.prices.iter().map(price).collect())
                .unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_covers_every_location_and_prices_parse() {
        let s = snapshot();
        let names: Vec<_> = s.locations.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]);
        assert_eq!(s.location("hel1").unwrap().network_zone, "eu-central");
        assert_eq!(s.location("sin").unwrap().network_zone, "ap-southeast");
        for t in &s.server_types {
            assert!(!t.prices.is_empty(), "{} orderable nowhere", t.name);
            for p in &t.prices {
                assert!(
                    p.hourly() > 0.0 && p.monthly() > p.hourly(),
                    "{} {}",
                    t.name,
                    p.location
                );
            }
        }
        // Cost-optimised CX types are EU-only.
        assert!(s.server_type("cx43").unwrap().price_in("ash").is_none());
        assert!(s.server_type("cpx42").unwrap().price_in("ash").is_some());
        assert!(s.load_balancer.prices.iter().any(|p| p.location == "sin"));
    }
}
