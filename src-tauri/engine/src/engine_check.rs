//! Which IaC engine a live run would use, asked by the Review step before
//! Provision: a missing OpenTofu, or a Terraform named in Settings (whose
//! state is not encrypted), is said there, not first in preflight.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Engine;
use super::settings::Mode;
use super::tofu::{self, TofuBinary};
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EngineCheck {
    /// Demo runs use the simulated cloud and no engine.
    pub demo: bool,
    /// The engine found (OpenTofu or Terraform), its version and path.
    pub binary: Option<TofuBinary>,
    /// What the operator must know before a run with it (Terraform: plaintext state).
    pub warning: Option<String>,
    /// Why no usable engine was found, in a sentence with what to do.
    pub error: Option<String>,
}

impl Engine {
    pub async fn engine_check(&self) -> Result<EngineCheck, ApiError> {
        if self.mode() == Mode::Demo {
            return Ok(EngineCheck {
                demo: true,
                binary: None,
                warning: None,
                error: None,
            });
        }
        let path = self.current_settings().tofu_path;
        Ok(match tofu::locate::locate(path.as_deref()).await {
            Ok(bin) => EngineCheck {
                demo: false,
                warning: bin.warning(),
                binary: Some(bin),
                error: None,
            },
            Err(e) => EngineCheck {
                demo: false,
                binary: None,
                warning: None,
                error: Some(e.to_string()),
            },
        })
    }
}
