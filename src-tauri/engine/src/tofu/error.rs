//! What can go wrong around `tofu`, each with a sentence the operator can act on.

use crate::error::ErrorCode;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TofuError {
    #[error(
        "OpenTofu (tofu) was not found: not at the configured path, not next to the app, not on PATH. \
         Install OpenTofu 1.8 or newer (https://opentofu.org/docs/intro/install/) or set its path in Settings."
    )]
    NotFound,
    #[error("The configured OpenTofu path {0} does not exist or is not a file; fix it in Settings.")]
    ConfiguredPathMissing(PathBuf),
    #[error("OpenTofu {found} is too old: 1.8 or newer is needed (state encryption). {hint}")]
    TooOld { found: String, hint: String },
    #[error(
        "{path} is Terraform {version}, not OpenTofu. Terraform does not encrypt state, so the app runs it only \
         when Settings name it as the path to tofu; otherwise install OpenTofu 1.8 or newer."
    )]
    TerraformNotNamed { path: String, version: String },
    #[error("`tofu version -json` could not be understood: {0}")]
    VersionUnreadable(String),
    #[error("Could not start {binary}: {source}")]
    Spawn {
        binary: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("tofu {command} failed (exit {exit}): {summary}")]
    Failed {
        command: String,
        exit: i32,
        /// The first error diagnostic, or the first stderr line when there was none.
        summary: String,
    },
    #[error("tofu {command} was cancelled; the state it had written was kept.")]
    Cancelled { command: String },
    #[error("tofu {command} was killed on a second cancel; its state may be incomplete.")]
    Killed { command: String },
    #[error(
        "The {role} cloud-init for {location} is {bytes} bytes; Hetzner accepts at most {limit} bytes of user_data."
    )]
    UserDataTooLarge {
        role: String,
        location: String,
        bytes: usize,
        limit: usize,
    },
    #[error(
        "The environment value {name} would be {bytes} bytes; the operating system allows at most {limit}."
    )]
    EnvTooLarge {
        name: String,
        bytes: usize,
        limit: usize,
    },
    #[error("Invalid input for the OpenTofu module: {0}")]
    InvalidInput(String),
    #[error("The plugin cache directory must not be the provider mirror directory ({0}).")]
    CacheIsMirror(PathBuf),
    #[error("Could not write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`tofu output -json` could not be understood: {0}")]
    OutputUnreadable(String),
}

impl TofuError {
    /// A stable code for events and the UI.
    pub fn code(&self) -> ErrorCode {
        match self {
            TofuError::NotFound => ErrorCode::TofuNotFound,
            TofuError::ConfiguredPathMissing(_) => ErrorCode::TofuPathMissing,
            TofuError::TooOld { .. } => ErrorCode::TofuTooOld,
            TofuError::TerraformNotNamed { .. } => ErrorCode::TerraformNotNamed,
            TofuError::VersionUnreadable(_) => ErrorCode::TofuVersionUnreadable,
            TofuError::Spawn { .. } => ErrorCode::TofuSpawnFailed,
            TofuError::Failed { .. } => ErrorCode::TofuFailed,
            TofuError::Cancelled { .. } => ErrorCode::TofuCancelled,
            TofuError::Killed { .. } => ErrorCode::TofuKilled,
            TofuError::UserDataTooLarge { .. } => ErrorCode::UserDataTooLarge,
            TofuError::EnvTooLarge { .. } => ErrorCode::TofuEnvTooLarge,
            TofuError::InvalidInput(_) => ErrorCode::TofuInvalidInput,
            TofuError::CacheIsMirror(_) => ErrorCode::TofuCacheIsMirror,
            TofuError::Write { .. } => ErrorCode::TofuWriteFailed,
            TofuError::OutputUnreadable(_) => ErrorCode::TofuOutputUnreadable,
        }
    }
}
