//! Shared helpers for the end-to-end suites, and the test doubles they run
//! against (`fakes`): fake Hetzner Cloud API, fake PDM, and later the
//! stand-in `tofu` and fake Kubernetes API.
pub mod fakes;
pub mod inproc_rig;
pub mod live_app;
pub mod ssh_agent;
pub mod support;
