//! Preflight: the token can write, the server types can be ordered where
//! chosen, the admin key is the one in the answers, the pool name is still
//! free, and an OpenTofu is found; the run stops before anything is created.

use crate::events::LogLevel;
use crate::hetzner;
use crate::keys::GeneratedKey;
use crate::provision::context::{RunCtx, Stop};
use crate::secrets::names;
use crate::secrets::redact::register_secret;
use crate::wizard::model::{DomainMode, SshKeyMode};

use super::LiveCloud;
use super::hints::{fail, pdm_stop};
use super::tofu::module_inputs;

impl LiveCloud {
    pub(super) async fn preflight_checks(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let total = 5;
        let token = self.hetzner_token(&ctx.record.id).await?;
        register_secret(&token);
        let check = hetzner::check_token(&self.hetzner_config(), &token)
            .await
            .map_err(|e| {
                fail(
                    format!(
                        "Hetzner could not be asked about the token: {}",
                        e.operator_message()
                    ),
                    "Check the network (or the Hetzner endpoint in the settings), then Resume.",
                )
            })?;
        if check.scope != hetzner::TokenScope::ReadWrite {
            let code = match check.scope {
                hetzner::TokenScope::ReadOnly => crate::error::ErrorCode::TokenReadonly,
                _ => crate::error::ErrorCode::Unauthorized,
            };
            return Err(Stop::Failed(
                crate::provision::context::PhaseError::new(
                    check.message.clone(),
                    "Create a Read & Write token in the Hetzner Cloud Console, check it in the Credentials step, then Resume.",
                )
                .with_code(code),
            ));
        }
        ctx.log(LogLevel::Info, "preflight", "✓ Hetzner token: read & write");
        ctx.progress(1, total, "Hetzner token");

        for r in &ctx.record.answers.regions {
            let mut types = vec![r.control_plane_type.as_str()];
            if r.worker_count > 0 {
                types.push(r.worker_type.as_str());
            }
            for t in types {
                let offered = check.server_types.iter().find(|s| s.name == t);
                match offered {
                    Some(s) if s.available_in(&r.location) => {}
                    Some(_) => {
                        return Err(fail(
                            format!(
                                "The server type {t} cannot be ordered in {} right now.",
                                r.location
                            ),
                            "Choose another server type or location in the wizard and start a new run.",
                        ));
                    }
                    None => {
                        return Err(fail(
                            format!("Hetzner does not offer the server type {t} to this project."),
                            "Choose another server type in the wizard and start a new run.",
                        ));
                    }
                }
            }
        }
        ctx.log(
            LogLevel::Info,
            "preflight",
            "✓ Server types orderable in every chosen location",
        );
        ctx.progress(2, total, "Server types");

        let a = &ctx.record.answers;
        let mut key_note = "✓ Admin SSH key parsed".to_owned();
        if a.credentials.ssh_key_mode == SshKeyMode::Generate {
            let private = self
                .run_secret(names::admin_private_key, &ctx.record.id)
                .await?
                .ok_or_else(|| {
                    fail(
                        "The generated admin key is not in the keyring.",
                        "Generate the key again in the Credentials step, then start a new run.",
                    )
                })?;
            let key = GeneratedKey::from_private_openssh(&private).map_err(|e| {
                fail(
                    format!("The admin key in the keyring cannot be read: {e}"),
                    "Generate the key again in the Credentials step.",
                )
            })?;
            if key.public_openssh().split_whitespace().nth(1)
                != a.credentials.ssh_public_key.split_whitespace().nth(1)
            {
                return Err(fail(
                    "The admin key in the keyring is not the one in the answers.",
                    "Generate the key again in the Credentials step, then start a new run.",
                ));
            }
        } else {
            // The run logs in through the agent: without the key there, it
            // would create servers it cannot follow.
            let (_, check) = self.agent_check(ctx).await?;
            if !check.held() {
                return Err(fail(
                    check.message,
                    "Add the pasted key's private half to your SSH agent (`ssh-add`), then Resume: nothing was created yet.",
                ));
            }
            key_note = format!(
                "✓ Admin SSH key pasted; the SSH agent at {} holds it",
                check.socket.unwrap_or_default()
            );
        }
        let inputs = module_inputs(&ctx.record.id, &ctx.record.fqdn, a)?;
        ctx.log(LogLevel::Info, "preflight", key_note);
        ctx.progress(3, total, "Admin SSH key");

        if a.domain.mode == DomainMode::Pool {
            let client = self.pdm_client().await?;
            let held = ctx.record.reservation.is_some();
            if held {
                ctx.log(
                    LogLevel::Info,
                    "preflight",
                    "✓ Domain reserved for this run already",
                );
            } else {
                let av = client
                    .check(&a.domain.pool_domain, &a.domain.subdomain)
                    .await
                    .map_err(|e| pdm_stop("The domain could not be checked", e))?;
                if !av.available {
                    return Err(fail(
                        format!("{} is not free any more: {}", av.fqdn, av.message),
                        "Start a new run with another subdomain.",
                    ));
                }
                ctx.log(
                    LogLevel::Info,
                    "preflight",
                    format!("✓ Domain {} still free", av.fqdn),
                );
            }
        } else {
            ctx.log(
                LogLevel::Info,
                "preflight",
                format!("✓ {} is your own domain", inputs.sovereign_fqdn),
            );
        }
        ctx.progress(4, total, "Domain");

        let bin = self.locate_tofu(ctx).await?;
        ctx.log(
            LogLevel::Info,
            "preflight",
            format!("✓ {} found at {}", bin.describe(), bin.path),
        );
        ctx.progress(5, total, "OpenTofu");
        Ok(())
    }
}
