//! Demo mode: a simulated cloud inside the engine. Same answers and events
//! as the real services, nothing real is created, no network is used.
pub mod hetzner;
pub mod pdm;
pub mod run;
