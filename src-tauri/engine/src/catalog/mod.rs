//! The catalogs the wizard offers: platform components (with dependency and
//! cascade rules and a footprint) and Hetzner server types with prices.
pub mod components;
pub mod estimate;
pub mod offers;

pub use components::{Catalog, Component, Family, Footprint, Selection, Tier, catalog};
pub use estimate::{Estimate, RegionEstimate, estimate};
pub use offers::{OfferSource, ServerOffers, snapshot};
