//! The cluster side of a provisioning run, after the servers exist: SSH to the
//! first control plane (host key pinned to the one the app generated), the
//! cloud-init log and status, the k3s kubeconfig, the nodes joining, the Hetzner credentials
//! the cluster's cloud controller reads (applied over SSH), the Phase-1 watch of Flux
//! objects, and the console's TLS check. Nothing here needs the server to
//! reach the laptop: every connection goes from the laptop out.

pub mod cloud_secret;
pub mod cloudinit_watch;
pub mod console;
pub mod error;
pub mod flux;
pub mod kubeconfig;
pub mod nodes;
pub mod ssh;
pub mod watch;

pub use cloudinit_watch::{
    CloudInitEvent, CloudInitProgress, CloudInitReport, CloudInitStage, CloudInitWait,
};
pub use console::{ConsoleCheck, ConsoleReady, wait_ready};
pub use error::ClusterError;
pub use flux::{ComponentState, ComponentUpdate};
pub use ssh::{CommandOutput, ServerCommands, SshAuth, SshSession, SshTarget, connect};
pub use watch::{WatchEvent, WatchOptions, WatchOutcome, WatchSummary, watch_releases};

/// Installs the aws-lc-rs rustls provider as the process default, once.
/// rustls panics when it cannot pick a provider by itself (two backends
/// compiled in); installing one explicitly keeps that from ever happening,
/// whichever of kube, reqwest or russh builds a TLS config first.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An Err only means another thread installed one in between.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}
