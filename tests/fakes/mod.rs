//! Test doubles for the services the machine cannot reach. Each speaks the
//! real wire format and is selected by configuration only (a base URL).
pub mod console;
pub mod dns;
pub mod hetzner;
pub mod kube;
pub mod pdm;
pub mod real_engine;
pub mod sshd;
