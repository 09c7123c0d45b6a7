//! Catalyst Provisioner: the engine (no Tauri) and its adapters.
pub mod adapters;
pub mod api;
pub mod bindings;
pub mod engine;
pub mod logging;
