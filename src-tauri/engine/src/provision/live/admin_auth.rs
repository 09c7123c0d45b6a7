//! How the run proves it is the admin on the control planes: the generated
//! key from the keyring, or the operator's SSH agent holding the pasted one.

use crate::cluster::SshAuth;
use crate::keys::agent::{self, AgentCheck};
use crate::keys::{GeneratedKey, parse_public_key};
use crate::provision::context::{RunCtx, Stop};
use crate::secrets::names;
use crate::wizard::model::SshKeyMode;

use super::LiveCloud;
use super::hints::fail;

impl LiveCloud {
    /// How the run logs in: the generated key from the keyring, or the
    /// operator's agent holding the pasted one.
    pub(super) async fn admin_auth(&self, ctx: &RunCtx) -> Result<SshAuth, Stop> {
        if ctx.record.answers.credentials.ssh_key_mode == SshKeyMode::Paste {
            let (public, check) = self.agent_check(ctx).await?;
            return match (check.held(), check.socket) {
                (true, Some(socket)) => Ok(SshAuth::Agent {
                    socket: socket.into(),
                    public,
                }),
                _ => Err(fail(
                    check.message,
                    "Add the pasted key's private half to your SSH agent (`ssh-add`), then Resume.",
                )),
            };
        }
        let admin_text = self
            .run_secret(names::admin_private_key, &ctx.record.id)
            .await?
            .ok_or_else(|| {
                fail(
                    "The admin private key is not in the keyring, so the app cannot log in to the control plane.",
                    "Generate the key again in the Credentials step, then start a new run.",
                )
            })?;
        let admin = GeneratedKey::from_private_openssh(&admin_text).map_err(|e| {
            fail(
                format!("The admin key in the keyring cannot be read: {e}"),
                "Generate the key again in the Credentials step.",
            )
        })?;
        Ok(SshAuth::Key(Box::new(admin.private_key().clone())))
    }

    /// Asks the operator's agent whether it holds the pasted admin key.
    pub(super) async fn agent_check(
        &self,
        ctx: &RunCtx,
    ) -> Result<(russh::keys::PublicKey, AgentCheck), Stop> {
        let pasted = &ctx.record.answers.credentials.ssh_public_key;
        let public = parse_public_key(pasted)
            .ok()
            .and_then(|p| russh::keys::PublicKey::from_openssh(&p.openssh).ok())
            .ok_or_else(|| {
                fail(
                    "The pasted admin key cannot be read.",
                    "Paste the key again in the Credentials step, then start a new run.",
                )
            })?;
        let socket = agent::agent_socket(self.settings.overrides.ssh_agent_socket.as_deref());
        let check = agent::check(socket.as_deref(), &public).await;
        Ok((public, check))
    }
}
