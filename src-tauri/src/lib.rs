//! Catalyst Provisioner: the engine (no Tauri) and its adapters.
pub mod adapters;
pub mod api;
pub mod bindings;
/// The engine lives in its own crate (no Tauri); this path keeps `crate::engine::…` for the adapters.
pub use catalyst_engine as engine;
pub mod logging;
