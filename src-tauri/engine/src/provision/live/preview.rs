//! The plan of a Sovereign before anything exists (Review, `plan`): the
//! module staged in a scratch dir with throwaway boot secrets (a host key and
//! k3s token that no server will ever get), init from the provider mirror,
//! then `tofu plan`. Nothing is created and nothing is kept in the keyring.

use std::path::Path;

use crate::provision::context::{PhaseError, Stop};
use crate::tofu::messages::{ChangeSummary, ResourceAction, Severity};
use crate::tofu::{
    self, BootInputs, CancelHandle, GitOpsSource, HostKey, Runner, Secret, TofuBinary, TofuEvent,
};
use crate::wizard::WizardAnswers;

use super::LiveCloud;
use super::hints::tofu_stop;
use super::tofu::{module_inputs, random_string};

/// The deployment id the preview's resources are labelled with.
pub const PREVIEW_ID: &str = "d-plan-preview";

/// What the plan said: each resource and what would happen to it, the
/// totals, and the engine that planned.
pub struct Planned {
    pub changes: Vec<(String, ResourceAction)>,
    pub summary: ChangeSummary,
    pub engine: TofuBinary,
}

/// A plan that did not come: why, and the first resource an error
/// diagnostic named (Review shows it in that resource's step).
pub struct PlanFailed {
    pub error: PhaseError,
    pub address: Option<String>,
}

impl From<PhaseError> for PlanFailed {
    fn from(error: PhaseError) -> Self {
        PlanFailed { error, address: None }
    }
}

fn stopped(s: Stop) -> PhaseError {
    match s {
        Stop::Failed(e) => e,
        Stop::Cancelled => PhaseError::new("The plan was stopped.", "Run it again."),
    }
}

impl LiveCloud {
    /// Plans `answers` in `scratch` (which the caller removes).
    pub async fn plan_preview(
        &mut self,
        answers: &WizardAnswers,
        scratch: &Path,
    ) -> Result<Planned, PlanFailed> {
        let fqdn = answers.fqdn().unwrap_or_default();
        let mut inputs = module_inputs(PREVIEW_ID, &fqdn, answers)?;
        let token = self.hetzner_token(PREVIEW_ID).await.map_err(stopped)?;
        if let Some((key_id, _)) = self
            .existing_key(&token, PREVIEW_ID, &inputs.admin_ssh_public_key)
            .await
            .map_err(stopped)?
        {
            inputs.existing_ssh_key_id = Some(key_id);
        }
        let host = crate::keys::generate_host_key(&fqdn).map_err(|e| {
            PhaseError::new(
                format!("A host key could not be generated: {e}"),
                "Run the plan again.",
            )
        })?;
        let host_private = host
            .private_openssh()
            .map_err(|e| {
                PhaseError::new(
                    format!("The host key could not be encoded: {e}"),
                    "Run the plan again.",
                )
            })?
            .to_string();
        let (url, branch) = self.settings.gitops();
        let (registry_mirror, pull_secrets) = self.registries().await.map_err(stopped)?;
        let boot = BootInputs {
            k3s_token: Secret::new(random_string(48)),
            host_key: HostKey {
                private_openssh: Secret::new(host_private),
                public_line: host.public_openssh().to_owned(),
            },
            components: answers.components.clone(),
            gitops: GitOpsSource { url, branch },
            pull_secrets,
            registry_mirror,
            certificates: self.settings.certificates.unwrap_or_default(),
        };
        let bin = tofu::locate::locate(self.settings.tofu_path.as_deref())
            .await
            .map_err(|e| stopped(tofu_stop(e)))?;
        let staged = self
            .stage(scratch, &inputs, &boot, token, random_string(40))
            .map_err(stopped)?;
        let runner = Runner::new(bin.clone(), scratch, staged.env);
        let cancel = CancelHandle::new();
        let mut errors: Vec<String> = Vec::new();
        let mut address: Option<String> = None;
        let mut changes = Vec::new();
        let mut sink = |ev: TofuEvent| match ev {
            TofuEvent::PlannedChange { address, action } => changes.push((address, action)),
            TofuEvent::Diagnostic { diagnostic } if diagnostic.severity == Severity::Error => {
                if address.is_none() {
                    address = diagnostic.address.clone();
                }
                errors.push(diagnostic.one_line())
            }
            _ => {}
        };
        let with_errors = |e: PhaseError, errors: &[String]| {
            if errors.is_empty() || e.error.contains(&errors[0]) {
                e
            } else {
                PhaseError {
                    error: format!("{} {}", e.error, errors.join(" ")),
                    ..e
                }
            }
        };
        let init = runner.init(&mut sink, &cancel).await;
        let result = match init {
            Err(e) => Err(e),
            Ok(()) => runner.plan(&mut sink, &cancel).await,
        };
        let summary = match result {
            Ok(s) => s,
            Err(e) => {
                return Err(PlanFailed {
                    error: with_errors(stopped(tofu_stop(e)), &errors),
                    address,
                });
            }
        };
        Ok(Planned {
            changes,
            summary,
            engine: bin,
        })
    }
}
