//! The cluster's own Hetzner credentials, applied once k3s answers: the
//! token (the provisioning one, or the cluster's own as the wizard chose)
//! and the names the cloud controller, CSI driver and autoscaler need, piped
//! over the pinned SSH connection into `kubectl apply -f -`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::SshSession;
use crate::cluster::cloud_secret::{CLOUD_CREDENTIALS, CloudCredentials, HCLOUD_SECRET};
use crate::handover::HandoverKey;
use crate::provision::context::{RunCtx, Stop};
use crate::secrets::names;
use crate::tofu::secret::Secret;
use crate::wipe::ownership::slug;
use crate::wizard::model::ClusterToken;

use super::LiveCloud;
use super::hints::{cluster_stop, fail};
use super::tofu::module_inputs;

/// `kubectl apply` of a few secrets on a fresh control plane.
const APPLY_TIMEOUT: Duration = Duration::from_secs(120);

impl LiveCloud {
    /// What one region's cluster is given (read from the keyring and the
    /// answers before the regions are reached at once).
    pub(super) async fn cloud_credentials(
        &mut self,
        ctx: &RunCtx,
        location: &str,
    ) -> Result<CloudCredentials, Stop> {
        let id = ctx.record.id.clone();
        let a = &ctx.record.answers;
        let provisioning = self.hetzner_token(&id).await?;
        let token = match a.credentials.cluster_token {
            ClusterToken::Same => provisioning.clone(),
            ClusterToken::Separate => self
                .run_secret(names::cluster_token, &id)
                .await?
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| {
                    fail(
                        "The cluster's own Hetzner token is not in the keyring.",
                        "Validate it again in the Credentials step (or let the cluster use the provisioning token), then start a new run.",
                    )
                })?,
        };
        let prefix = format!("catalyst-{}", slug(&ctx.record.fqdn));
        let region = a.regions.iter().find(|r| r.location == location);
        // A key the project already had is reused under its own name.
        let ssh_key = match self
            .existing_key(&provisioning, &id, &a.credentials.ssh_public_key)
            .await?
        {
            Some((_, name)) => name,
            None => format!("{prefix}-admin"),
        };
        let with_workers = region.is_some_and(|r| r.worker_count > 0);
        let worker_cloud_init = if with_workers {
            let inputs = module_inputs(&id, &ctx.record.fqdn, a)?;
            let (_, boot) = self.boot_inputs(ctx).await?;
            let rendered = crate::tofu::cloudinit::render(&inputs, &boot).map_err(super::hints::tofu_stop)?;
            rendered.worker.get(location).cloned().map(Secret::new)
        } else {
            None
        };
        let handover = self.handover_key(&id).await?;
        Ok(CloudCredentials {
            handover_jwk: Some(handover.public_jwk()),
            token: Secret::new(token),
            network: format!("{prefix}-{location}-net"),
            firewall: format!("{prefix}-{location}-fw"),
            ssh_key,
            worker_cloud_init,
        })
    }

    /// The deployment's handover key: generated once, kept in the keyring.
    pub(super) async fn handover_key(&self, id: &str) -> Result<HandoverKey, Stop> {
        let text = self
            .kept_secret(&names::handover_key(id), || {
                Ok(HandoverKey::generate().to_secret().expose().to_owned())
            })
            .await?;
        HandoverKey::from_secret(&text).map_err(|e| {
            fail(
                format!("{e}."),
                "Remove this deployment's damaged handover-key entry from the OS keyring, then Resume: a new key is made and installed.",
            )
        })
    }

    /// Applies the cluster's credentials through `session` (stdin, never
    /// argv); says what it stored, for the caller to log.
    pub(super) async fn store_cloud_credentials(
        ctx: &RunCtx,
        session: &SshSession,
        creds: &CloudCredentials,
        cancel: &CancellationToken,
    ) -> Result<String, Stop> {
        let manifest = creds.manifest();
        let command = session.target().commands.apply_manifest.clone();
        let out = session
            .run_with_input(&command, manifest.expose().as_bytes(), APPLY_TIMEOUT, cancel)
            .await
            .map_err(cluster_stop)?;
        if !out.success() {
            return Err(fail(
                format!(
                    "`{command}` could not store the cluster's Hetzner credentials (exit {}): {}",
                    out.exit_status.map_or("none".into(), |s| s.to_string()),
                    crate::secrets::redact(out.stderr_text().trim())
                ),
                "Check that k3s answers on the control plane (`k3s kubectl get nodes`), then Resume.",
            ));
        }
        let which = match ctx.record.answers.credentials.cluster_token {
            ClusterToken::Same => "the provisioning token",
            ClusterToken::Separate => "its own token",
        };
        Ok(format!(
            "Stored the cluster's Hetzner credentials ({which}; network {}{}) in {}/{} and {}/{} over SSH, \
                 for the cloud controller, the CSI driver and the autoscaler, and the handover key's public half \
                 in catalyst-system/catalyst-handover-jwt-public.",
            creds.network,
            if creds.worker_cloud_init.is_some() {
                "; the workers' cloud-init"
            } else {
                ""
            },
            HCLOUD_SECRET.0,
            HCLOUD_SECRET.1,
            CLOUD_CREDENTIALS.0,
            CLOUD_CREDENTIALS.1,
        ))
    }
}
