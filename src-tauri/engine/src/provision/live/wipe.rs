//! What the wipe asks of the live cloud: a Hetzner client, `tofu destroy`
//! against the run's state, the PDM release, and forgetting the run's secrets.

use std::path::PathBuf;
use std::sync::Arc;

use crate::events::LogLevel;
use crate::hetzner;
use crate::pdm::lifecycle;
use crate::provision::context::{PhaseError, RunCtx};
use crate::provision::run_secrets;
use crate::tofu;
use crate::wizard::model::DomainMode;

use super::hints::{stop_error, tofu_stop};
use super::{CancelBridge, LiveCloud};

impl LiveCloud {
    /// The Hetzner client a wipe uses: the keyring's token, and a request
    /// budget for the many list and delete calls of the purge and sweep.
    pub(crate) async fn wipe_client(&self, id: &str) -> Result<hetzner::HetznerClient, PhaseError> {
        let token = self.hetzner_token(id).await.map_err(stop_error)?;
        let mut config = self.hetzner_config();
        config.request_budget = 20_000;
        hetzner::HetznerClient::new(config, &token).map_err(|e| {
            PhaseError::new(
                format!("The Hetzner client could not be set up: {}", e.operator_message()),
                "Check the Hetzner endpoint in the settings, then Wipe again.",
            )
        })
    }

    /// `tofu destroy` against the deployment's own state. `Ok(None)` when
    /// there is no state (the run never applied, or the state was lost).
    pub(crate) async fn destroy(&mut self, ctx: &mut RunCtx) -> Result<Option<u64>, PhaseError> {
        let work =
            tofu::module::work_dir(&self.data_dir, &ctx.record.id).map_err(|e| stop_error(tofu_stop(e)))?;
        if !work.join("terraform.tfstate").is_file() {
            return Ok(None);
        }
        self.ensure_runner(ctx).await.map_err(stop_error)?;
        let cancel = CancelBridge::new(ctx);
        let mut sink = Self::tofu_sink(ctx, None, Arc::default());
        let Some(runner) = &self.runner else {
            return Err(PhaseError::new("The OpenTofu runner is missing.", "Wipe again."));
        };
        if !work.join(".terraform").is_dir() {
            runner
                .init(&mut sink, &cancel.tofu)
                .await
                .map_err(|e| stop_error(tofu_stop(e)))?;
        }
        let summary = runner
            .destroy(&mut sink, &cancel.tofu)
            .await
            .map_err(|e| stop_error(tofu_stop(e)))?;
        Ok(Some(summary.remove))
    }

    /// Frees the run's name in PDM (pool mode) when the row PDM holds is
    /// still ours. `Ok(true)`: released or nothing held.
    pub(crate) async fn release_domain(&self, ctx: &mut RunCtx) -> Result<bool, String> {
        if ctx.record.answers.domain.mode != DomainMode::Pool {
            ctx.log(
                LogLevel::Info,
                "pdm",
                format!(
                    "{} is your own domain: nothing to release in PDM.",
                    ctx.record.fqdn
                ),
            );
            return Ok(false);
        }
        let Some(res) = ctx.record.reservation.clone() else {
            ctx.log(
                LogLevel::Info,
                "pdm",
                "PDM holds no name for this run (released earlier).",
            );
            return Ok(true);
        };
        let client = self.pdm_client().await.map_err(|s| stop_error(s).error)?;
        match lifecycle::release_on_failure(&client, &res).await {
            Ok(lifecycle::ReleaseReport::Released(_)) => {
                ctx.log(LogLevel::Info, "pdm", format!("Released {}.", res.fqdn()));
                ctx.record.reservation = None;
                ctx.save();
                Ok(true)
            }
            Ok(lifecycle::ReleaseReport::LeftAlone { reason }) => Err(reason),
            Err(e) => Err(format!(
                "{} could not be released: {e} (pdm-cli force-release frees it by hand)",
                res.fqdn()
            )),
        }
    }

    /// Drops the secrets kept for one deployment (after a clean wipe).
    pub(crate) fn forget_secrets(&self, id: &str) {
        if let Err(e) = run_secrets::forget(self.secrets.as_ref(), id) {
            tracing::warn!(error = %e.operator_message(), "a deployment secret could not be removed");
        }
    }

    pub(crate) fn kubeconfig_file(&self, id: &str) -> PathBuf {
        self.kubeconfig_path(id)
    }
}
