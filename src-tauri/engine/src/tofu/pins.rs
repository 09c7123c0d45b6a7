//! Every version the bootstrap installs, pinned in one place. Flux in
//! particular must match the bp-flux subchart, or Helm's rollback deletes the
//! controllers (F-9); change it here and only here.

pub const K3S_VERSION: &str = "v1.31.4+k3s1";
pub const FLUX_VERSION: &str = "v2.4.0";
pub const CILIUM_VERSION: &str = "1.16.5";
/// v1.1.0 experimental: Cilium 1.16 rejects the v1.2.0 status format.
pub const GATEWAY_API_VERSION: &str = "v1.1.0";
pub const HELM_VERSION: &str = "v3.16.4";
/// The oldest OpenTofu the app runs: state encryption (TF_ENCRYPTION) came in
/// 1.7, whose support ended with 1.9's release; 1.8 is the oldest line the
/// module's syntax was written against.
pub const MIN_TOFU: (u64, u64) = (1, 8);
