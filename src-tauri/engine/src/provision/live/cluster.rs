//! The cluster phases over SSH and Kubernetes: cloud-init followed on the
//! control plane (its host key verified), the kubeconfig fetched and kept,
//! then the Flux releases of the bootstrap kit watched until installed.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::{
    self, CloudInitEvent, CloudInitWait, ClusterError, ComponentState, ServerCommands, SshAuth, SshTarget,
    WatchEvent, WatchOptions,
};
use crate::events::{EventKind, LogLevel, Phase};
use crate::keys::agent::{self, AgentCheck};
use crate::keys::{GeneratedKey, parse_public_key};
use crate::provision::context::{RunCtx, Stop};
use crate::provision::phases::expected_releases;
use crate::secrets::names;
use crate::store::write_private_file;
use crate::wizard::model::SshKeyMode;

use super::hints::{cluster_stop, fail};
use super::{CancelBridge, LiveCloud, log_to};

/// How long the control plane may take to accept SSH unless the settings say.
const DEFAULT_SSH_CONNECT: Duration = Duration::from_secs(10 * 60);
const KUBECONFIG_TIMEOUT: Duration = Duration::from_secs(60);
const KUBECONFIG_FILE: &str = "kubeconfig.yaml";

impl LiveCloud {
    pub(super) async fn connect(&mut self, ctx: &RunCtx, cancel: &CancellationToken) -> Result<(), Stop> {
        if self.session.is_some() {
            return Ok(());
        }
        let cp = ctx
            .record
            .outputs
            .control_plane_ips
            .first()
            .cloned()
            .ok_or_else(|| {
                fail(
                    "No control plane IP is known.",
                    "Resume from \"Create the cloud resources\" to read the outputs again.",
                )
            })?;
        let auth = self.admin_auth(ctx).await?;
        let host = self.host_key(&ctx.record.id, &ctx.record.fqdn).await?;
        let user = self
            .settings
            .overrides
            .ssh_user
            .clone()
            .unwrap_or_else(|| "root".into());
        let address = self.settings.overrides.ssh_host.clone().unwrap_or(cp);
        let mut target = SshTarget::with_auth(&address, &user, auth, host.public_openssh());
        target.port = self.settings.overrides.ssh_port.unwrap_or(22);
        if let Some(p) = &self.settings.overrides.ssh_server_paths {
            let kubectl = p.kubectl.as_deref().unwrap_or(cluster::ssh::K3S_KUBECTL);
            target.commands = ServerCommands::with_kubectl("root", &p.cloud_init_log, &p.kubeconfig, kubectl);
        }
        let timeout = self
            .settings
            .overrides
            .ssh_connect_timeout_s
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_SSH_CONNECT);
        ctx.log(
            LogLevel::Info,
            "ssh",
            format!("Connecting to {} as {user}…", target.addr()),
        );
        let session = cluster::connect(&target, timeout, cancel)
            .await
            .map_err(cluster_stop)?;
        ctx.log(
            LogLevel::Info,
            "ssh",
            format!(
                "Connected to {}; host key {} matches the one generated for this Sovereign.",
                target.addr(),
                host.fingerprint()
            ),
        );
        self.session = Some(session);
        Ok(())
    }

    /// How the run logs in: the generated key from the keyring, or the
    /// operator's agent holding the pasted one.
    async fn admin_auth(&self, ctx: &RunCtx) -> Result<SshAuth, Stop> {
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

    pub(super) async fn follow_cloud_init(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let cancel = CancelBridge::new(ctx);
        self.connect(ctx, &cancel.token).await?;
        let em = ctx.emitter();
        let mut sink = move |ev: CloudInitEvent| match ev {
            CloudInitEvent::Line { line } => log_to(&em, LogLevel::Info, "cloud-init", line),
            CloudInitEvent::Progress { progress } => em.emit(EventKind::Progress {
                done: progress.done.into(),
                total: progress.total.into(),
                label: progress.label,
            }),
        };
        let Some(session) = &self.session else {
            return Err(fail("The SSH session is missing.", "Resume retries."));
        };
        let report = session
            .follow_cloud_init(
                &mut sink,
                &cancel.token,
                CloudInitWait {
                    timeout: self.settings.timeouts.limit(Phase::CloudInit),
                    ..CloudInitWait::default()
                },
            )
            .await;
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                if let ClusterError::CloudInitFailed { last_lines, .. }
                | ClusterError::CloudInitTimeout { last_lines, .. } = &e
                {
                    for l in last_lines {
                        ctx.log(LogLevel::Error, "cloud-init", l.clone());
                    }
                }
                return Err(cluster_stop(e));
            }
        };
        for w in &report.recoverable_errors {
            ctx.log(LogLevel::Warn, "cloud-init", w.clone());
        }
        ctx.log(
            LogLevel::Info,
            "cloud-init",
            format!(
                "cloud-init finished after {} s ({} log lines).",
                report.elapsed.as_secs(),
                report.lines
            ),
        );
        Ok(())
    }

    pub(super) fn kubeconfig_path(&self, id: &str) -> PathBuf {
        self.data_dir.join("deployments").join(id).join(KUBECONFIG_FILE)
    }

    pub(super) async fn fetch_kubeconfig(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let cancel = CancelBridge::new(ctx);
        self.connect(ctx, &cancel.token).await?;
        let cp = ctx
            .record
            .outputs
            .control_plane_ips
            .first()
            .cloned()
            .unwrap_or_default();
        let Some(session) = self.session.take() else {
            return Err(fail("The SSH session is missing.", "Resume retries."));
        };
        let fetched = session
            .fetch_kubeconfig(&cp, KUBECONFIG_TIMEOUT, &cancel.token)
            .await;
        // k3s answers (its kubeconfig exists): the cluster gets its cloud
        // credentials on the same pinned connection.
        let stored = match &fetched {
            Ok(_) => self.store_cloud_credentials(ctx, &session, &cancel.token).await,
            Err(_) => Ok(()),
        };
        session.close().await;
        let mut yaml = fetched.map_err(cluster_stop)?;
        stored?;
        if let Some(url) = &self.settings.overrides.kube_api_override {
            yaml = point_at(&yaml, url);
        }
        let path = self.kubeconfig_path(&ctx.record.id);
        write_private_file(&path, yaml.as_bytes()).map_err(|e| {
            fail(
                format!("{} could not be written: {e}", path.display()),
                "Free some disk space, then Resume.",
            )
        })?;
        ctx.record.outputs.kubeconfig_path = Some(path.display().to_string());
        ctx.save();
        ctx.log(
            LogLevel::Info,
            "ssh",
            format!(
                "Read the k3s kubeconfig, pointed it at the control plane {cp}:6443 and wrote {} (mode 0600).",
                path.display()
            ),
        );
        self.kubeconfig = Some(yaml);
        Ok(())
    }

    pub(super) async fn watch_bootstrap(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let yaml = match self.kubeconfig.clone() {
            Some(y) => y,
            None => {
                let path = self.kubeconfig_path(&ctx.record.id);
                std::fs::read_to_string(&path).map_err(|e| {
                    fail(
                        format!("{} cannot be read: {e}", path.display()),
                        "Resume from \"Fetch the kubeconfig\".",
                    )
                })?
            }
        };
        let expected = expected_releases(&ctx.record.answers.components);
        let total = expected.len() as u64;
        for r in &expected {
            ctx.emit(EventKind::Component {
                name: r.clone(),
                state: "pending".into(),
                message: "Waiting for Flux".into(),
            });
        }
        let cancel = CancelBridge::new(ctx);
        let em = ctx.emitter();
        let mut installed: Vec<String> = Vec::new();
        let names = expected.clone();
        let mut sink = move |ev: WatchEvent| match ev {
            WatchEvent::Component { update } => {
                em.emit(EventKind::Component {
                    name: update.name.clone(),
                    state: update.state.as_str().into(),
                    message: update.message.clone(),
                });
                if update.state == ComponentState::Installed
                    && names.contains(&update.name)
                    && !installed.contains(&update.name)
                {
                    installed.push(update.name.clone());
                    em.emit(EventKind::Progress {
                        done: installed.len() as u64,
                        total,
                        label: format!("{} installed", update.name),
                    });
                }
            }
            WatchEvent::Kustomization { update } => log_to(
                &em,
                LogLevel::Info,
                "flux",
                format!(
                    "Kustomization {}: {} {}",
                    update.name,
                    update.state.as_str(),
                    update.message
                ),
            ),
            WatchEvent::Warning { message } => log_to(&em, LogLevel::Warn, "flux", message),
        };
        let summary = cluster::watch_releases(
            &yaml,
            expected,
            &mut sink,
            &cancel.token,
            &WatchOptions {
                overall_timeout: self.settings.timeouts.limit(Phase::Bootstrap),
                ..WatchOptions::default()
            },
        )
        .await
        .map_err(cluster_stop)?;
        let summary = summary.into_result().map_err(cluster_stop)?;
        ctx.log(
            LogLevel::Info,
            "flux",
            format!(
                "Every component installed ({} releases, {} s).",
                summary.components.len(),
                summary.elapsed.as_secs()
            ),
        );
        Ok(())
    }
}

/// Points every `server:` line of a kubeconfig at `url`.
pub(super) fn point_at(yaml: &str, url: &str) -> String {
    yaml.split_inclusive('\n')
        .map(|line| {
            let body = line.trim_end_matches(['\n', '\r']);
            let trimmed = body.trim_start();
            if trimmed.starts_with("server:") {
                let indent = &body[..body.len() - trimmed.len()];
                format!("{indent}server: {url}{}", &line[body.len()..])
            } else {
                line.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lines_are_replaced_and_the_rest_kept() {
        let y = "clusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";
        let out = point_at(y, "http://127.0.0.1:9999");
        assert_eq!(
            out,
            "clusters:\n- cluster:\n    server: http://127.0.0.1:9999\n  name: default\n"
        );
    }
}
