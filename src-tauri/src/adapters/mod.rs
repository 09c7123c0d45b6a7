//! Adapters over the one engine API: the window (Tauri), the loopback
//! websocket bridge, and the headless CLI.
pub mod bridge;
pub mod cli;
pub mod tauri;
