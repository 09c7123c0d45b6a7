//! Shared helpers for the end-to-end suites. The test doubles (fake Hetzner
//! API, fake PDM, stand-in `tofu`, fake Kubernetes API) live under `fakes/`.
