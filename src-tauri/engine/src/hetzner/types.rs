//! What the app keeps of Hetzner's catalogue (UI-facing, exported to
//! TypeScript), and the wire shapes it is read from.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    ReadWrite,
    ReadOnly,
    Invalid,
}

/// A net/gross amount as Hetzner sends it: decimal strings, never floats,
/// so the UI shows exactly what Hetzner bills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Price {
    pub net: String,
    pub gross: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LocationPrice {
    pub location: String,
    pub hourly: Price,
    pub monthly: Price,
    #[ts(type = "number")]
    pub included_traffic_bytes: u64,
    pub per_tb_traffic: Option<Price>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LocationInfo {
    #[ts(type = "number")]
    pub id: u64,
    /// e.g. `fsn1`
    pub name: String,
    pub description: String,
    pub country: String,
    pub city: String,
    /// e.g. `eu-central`; a private network spans one zone.
    pub network_zone: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// Whether a server type can be ordered in one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ServerTypeAvailability {
    pub location: String,
    pub available: bool,
    pub recommended: bool,
    pub deprecated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServerTypeInfo {
    #[ts(type = "number")]
    pub id: u64,
    /// e.g. `cpx42`
    pub name: String,
    pub description: String,
    pub category: Option<String>,
    pub cores: u32,
    pub memory_gb: f64,
    #[ts(type = "number")]
    pub disk_gb: u64,
    /// `shared` or `dedicated`
    pub cpu_type: String,
    /// `x86` or `arm`
    pub architecture: String,
    pub storage_type: String,
    pub deprecated: bool,
    pub locations: Vec<ServerTypeAvailability>,
    pub prices: Vec<LocationPrice>,
}

impl ServerTypeInfo {
    pub fn available_in(&self, location: &str) -> bool {
        self.locations
            .iter()
            .any(|l| l.location == location && l.available)
    }

    pub fn price_in(&self, location: &str) -> Option<&LocationPrice> {
        self.prices.iter().find(|p| p.location == location)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LoadBalancerTypeInfo {
    #[ts(type = "number")]
    pub id: u64,
    /// e.g. `lb11`
    pub name: String,
    pub description: String,
    #[ts(type = "number")]
    pub max_connections: u64,
    pub max_services: u32,
    pub max_targets: u32,
    pub max_assigned_certificates: u32,
    pub prices: Vec<LocationPrice>,
}

/// The answer to "what can this token do, and what can it buy where".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TokenCheck {
    pub scope: TokenScope,
    /// One sentence for the operator about the scope.
    pub message: String,
    pub locations: Vec<LocationInfo>,
    pub server_types: Vec<ServerTypeInfo>,
    pub load_balancer_types: Vec<LoadBalancerTypeInfo>,
    /// Currency of the prices (the project owner's), e.g. `EUR`.
    pub currency: Option<String>,
    /// VAT rate applied in the gross prices, e.g. `19.000000`.
    pub vat_rate: Option<String>,
}

// ---- wire shapes (only what the app reads; unknown fields are ignored) ----

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireAmount {
    pub net: String,
    pub gross: String,
}

impl From<WireAmount> for Price {
    fn from(a: WireAmount) -> Price {
        Price {
            net: a.net,
            gross: a.gross,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WirePrice {
    pub location: String,
    pub price_hourly: WireAmount,
    pub price_monthly: WireAmount,
    #[serde(default)]
    pub included_traffic: Option<u64>,
    #[serde(default)]
    pub price_per_tb_traffic: Option<WireAmount>,
}

impl From<WirePrice> for LocationPrice {
    fn from(p: WirePrice) -> LocationPrice {
        LocationPrice {
            location: p.location,
            hourly: p.price_hourly.into(),
            monthly: p.price_monthly.into(),
            included_traffic_bytes: p.included_traffic.unwrap_or(0),
            per_tb_traffic: p.price_per_tb_traffic.map(Price::from),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireLocation {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub latitude: f64,
    #[serde(default)]
    pub longitude: f64,
    #[serde(default)]
    pub network_zone: String,
}

impl From<WireLocation> for LocationInfo {
    fn from(l: WireLocation) -> LocationInfo {
        LocationInfo {
            id: l.id,
            name: l.name,
            description: l.description,
            country: l.country,
            city: l.city,
            network_zone: l.network_zone,
            latitude: l.latitude,
            longitude: l.longitude,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireTypeLocation {
    pub name: String,
    #[serde(default)]
    pub available: Option<bool>,
    #[serde(default)]
    pub recommended: Option<bool>,
    #[serde(default)]
    pub deprecation: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireServerType {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: Option<String>,
    pub cores: u32,
    pub memory: f64,
    pub disk: u64,
    #[serde(default)]
    pub cpu_type: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub storage_type: String,
    #[serde(default)]
    pub deprecated: Option<bool>,
    #[serde(default)]
    pub deprecation: Option<Value>,
    #[serde(default)]
    pub prices: Vec<WirePrice>,
    /// Per-location availability (API since 2025); older answers lack it.
    #[serde(default)]
    pub locations: Option<Vec<WireTypeLocation>>,
}

impl WireServerType {
    /// `prices` replaces the type's own prices when /pricing had them (those
    /// are in the project owner's currency and VAT).
    pub(crate) fn into_info(self, prices: Option<Vec<WirePrice>>) -> ServerTypeInfo {
        let prices: Vec<LocationPrice> = prices
            .unwrap_or(self.prices)
            .into_iter()
            .map(LocationPrice::from)
            .collect();
        let locations = match self.locations {
            Some(locs) => locs
                .into_iter()
                .map(|l| ServerTypeAvailability {
                    location: l.name,
                    available: l.available.unwrap_or(true),
                    recommended: l.recommended.unwrap_or(false),
                    deprecated: l.deprecation.is_some_and(|d| !d.is_null()),
                })
                .collect(),
            // Without the per-location list, a price for a location is the
            // only sign the type is sold there.
            None => prices
                .iter()
                .map(|p| ServerTypeAvailability {
                    location: p.location.clone(),
                    available: true,
                    recommended: false,
                    deprecated: false,
                })
                .collect(),
        };
        ServerTypeInfo {
            id: self.id,
            name: self.name,
            description: self.description,
            category: self.category,
            cores: self.cores,
            memory_gb: self.memory,
            disk_gb: self.disk,
            cpu_type: self.cpu_type,
            architecture: self.architecture,
            storage_type: self.storage_type,
            deprecated: self.deprecated.unwrap_or(false) || self.deprecation.is_some_and(|d| !d.is_null()),
            locations,
            prices,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireLoadBalancerType {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub max_connections: u64,
    #[serde(default)]
    pub max_services: u32,
    #[serde(default)]
    pub max_targets: u32,
    #[serde(default)]
    pub max_assigned_certificates: u32,
    #[serde(default)]
    pub prices: Vec<WirePrice>,
}

impl WireLoadBalancerType {
    pub(crate) fn into_info(self, prices: Option<Vec<WirePrice>>) -> LoadBalancerTypeInfo {
        LoadBalancerTypeInfo {
            id: self.id,
            name: self.name,
            description: self.description,
            max_connections: self.max_connections,
            max_services: self.max_services,
            max_targets: self.max_targets,
            max_assigned_certificates: self.max_assigned_certificates,
            prices: prices
                .unwrap_or(self.prices)
                .into_iter()
                .map(LocationPrice::from)
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WirePricedType {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub prices: Vec<WirePrice>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WirePricing {
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub vat_rate: Option<String>,
    #[serde(default)]
    pub server_types: Vec<WirePricedType>,
    #[serde(default)]
    pub load_balancer_types: Vec<WirePricedType>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WirePricingEnvelope {
    pub pricing: WirePricing,
}

impl WirePricing {
    /// Prices of a type by id, else by name.
    pub(crate) fn find(list: &[WirePricedType], id: u64, name: &str) -> Option<Vec<WirePrice>> {
        list.iter()
            .find(|t| t.id == Some(id))
            .or_else(|| list.iter().find(|t| t.name == name))
            .map(|t| t.prices.clone())
    }
}
