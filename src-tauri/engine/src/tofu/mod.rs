//! OpenTofu: the embedded Hetzner module, the cloud-config rendered from
//! typed values, the tfvars and environment (secrets only in the latter),
//! and the runner that streams `-json` output as typed events.
//!
//! A run, in order: `module::work_dir` → `module::stage` → `cloudinit::render`
//! → `ChildEnv::build` (with `cliconfig::write` when offline) →
//! `locate::locate` → `Runner::{init, plan, apply, output}`; a wipe uses
//! `Runner::destroy` over the same work dir.

pub mod bundled;
pub mod cancel;
pub mod cliconfig;
pub mod cloudinit;
pub mod encryption;
pub mod env;
pub mod error;
pub mod hcl;
pub mod init_message;
pub mod locate;
pub mod location;
pub mod messages;
pub mod module;
pub mod outputs;
pub mod pins;
pub mod process;
pub mod runner;
pub mod secret;
pub mod vars;
mod yaml;

pub use cloudinit::{
    BootInputs, GitOpsSource, HostKey, RegistryCredential, RegistryMirror, RenderedCloudInit,
};
pub use env::{ChildEnv, TofuEnvOptions, TofuSecrets};
pub use error::TofuError;
pub use locate::{EngineKind, TofuBinary};
pub use location::Location;
pub use messages::{ChangeSummary, Diagnostic, TofuEvent};
pub use outputs::TofuOutputs;
pub use runner::{CancelHandle, Runner};
pub use secret::Secret;
pub use vars::{ModuleInputs, RegionSpec, Topology};
