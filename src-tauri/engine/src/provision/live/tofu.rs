//! The OpenTofu phases: the module staged with the run's inputs and
//! secrets, then init, plan and apply, their `-json` stream turned into
//! Resource and Log events.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

use crate::events::{EventKind, LogLevel};
use crate::hetzner;
use crate::provision::context::{PhaseError, RunCtx, Stop};
use crate::secrets::names;
use crate::secrets::redact::register_secret;
use crate::store::deployments::RegionOutputs;
use crate::tofu::messages::ResourceAction;
use crate::tofu::{
    self, BootInputs, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs, RegionSpec,
    RegistryCredential, RegistryMirror, Runner, Secret, TofuBinary, TofuEnvOptions, TofuEvent, TofuSecrets,
};
use crate::wizard::WizardAnswers;
use crate::wizard::model::Topology as WizardTopology;

use super::hints::{fail, tofu_stop};
use super::{CancelBridge, LiveCloud, log_to};

/// A staged module: tofu's environment, the provider mirror it uses, and
/// the largest user_data rendered (bytes).
pub(super) struct Staged {
    pub env: ChildEnv,
    pub mirror: Option<std::path::PathBuf>,
    pub largest: usize,
}

pub(super) fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub(super) fn action_str(a: ResourceAction) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

pub(super) fn started_state(a: ResourceAction) -> &'static str {
    match a {
        ResourceAction::Create => "creating",
        ResourceAction::Delete => "deleting",
        ResourceAction::Replace => "replacing",
        ResourceAction::Read => "reading",
        _ => "updating",
    }
}

pub(super) fn done_state(a: ResourceAction) -> &'static str {
    match a {
        ResourceAction::Create => "created",
        ResourceAction::Delete => "deleted",
        ResourceAction::Replace => "replaced",
        ResourceAction::Read => "read",
        _ => "updated",
    }
}

/// The module inputs for a run's answers.
pub fn module_inputs(id: &str, fqdn: &str, a: &WizardAnswers) -> Result<ModuleInputs, PhaseError> {
    let topology = match a.topology {
        WizardTopology::Solo => tofu::Topology::Solo,
        WizardTopology::Dual => tofu::Topology::Dual,
        WizardTopology::Triangle => tofu::Topology::Triangle,
    };
    let mut regions = Vec::new();
    for r in &a.regions {
        let location = Location::parse(&r.location).ok_or_else(|| {
            PhaseError::new(
                format!("\"{}\" is not a Hetzner location the module knows.", r.location),
                "Choose another location in the Topology step and start a new run.",
            )
        })?;
        regions.push(RegionSpec {
            location,
            control_plane_type: r.control_plane_type.clone(),
            // No workers: the module still wants a type name; it creates nothing with it.
            worker_type: if r.worker_count == 0 && r.worker_type.trim().is_empty() {
                r.control_plane_type.clone()
            } else {
                r.worker_type.clone()
            },
            worker_count: r.worker_count,
        });
    }
    let inputs = ModuleInputs {
        deployment_id: id.to_owned(),
        sovereign_fqdn: fqdn.to_owned(),
        topology,
        ha: a.ha,
        regions,
        admin_ssh_public_key: a.credentials.ssh_public_key.trim().to_owned(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: a.credentials.ssh_allowed_cidrs.clone(),
        server_image: None,
        load_balancer_type: None,
    };
    inputs.validate().map_err(|e| {
        PhaseError::new(
            e.to_string(),
            "Fix the answers in the wizard and start a new run.",
        )
    })?;
    Ok(inputs)
}

impl LiveCloud {
    /// The registry mirror and pull credentials from the settings, their
    /// passwords from the keyring (they reach the nodes through cloud-init).
    pub(super) async fn registries(&self) -> Result<(Option<RegistryMirror>, Vec<RegistryCredential>), Stop> {
        use crate::settings::{DEFAULT_MIRROR_UPSTREAM, DEFAULT_PULL_REGISTRY};
        let or = |s: &str, d: &str| {
            if s.trim().is_empty() {
                d.to_owned()
            } else {
                s.trim().to_owned()
            }
        };
        let mut creds = Vec::new();
        let mut mirror = None;
        if let Some(m) = &self.settings.registry_mirror {
            mirror = Some(RegistryMirror {
                upstream: or(&m.upstream, DEFAULT_MIRROR_UPSTREAM),
                endpoint: m.url.trim().trim_end_matches('/').to_owned(),
                rewrite: m.rewrite(),
            });
            let password = self.secret(&names::registry_mirror_password()).await?;
            if let (false, Some(p)) = (m.username.trim().is_empty(), password) {
                // containerd looks the credential up by the mirror's host.
                let host = reqwest::Url::parse(m.url.trim())
                    .ok()
                    .and_then(|u| {
                        u.host_str()
                            .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
                    })
                    .unwrap_or_default();
                creds.push(RegistryCredential {
                    registry: host,
                    username: m.username.trim().to_owned(),
                    password: Secret::new(p),
                });
            }
        }
        if let Some(c) = &self.settings.pull_credential {
            let password = self.secret(&names::pull_password()).await?.ok_or_else(|| {
                fail(
                    "The image pull credential has no password in the keyring.",
                    "Set the pull password in Settings (or clear the pull user), then Resume.",
                )
            })?;
            creds.push(RegistryCredential {
                registry: or(&c.registry, DEFAULT_PULL_REGISTRY),
                username: c.username.trim().to_owned(),
                password: Secret::new(password),
            });
        }
        Ok((mirror, creds))
    }

    /// The engine for this run, found once per process; the record says
    /// which engine and version ran, and a Terraform named in Settings is
    /// warned about in the log (its state is plaintext).
    pub(super) async fn locate_tofu(&mut self, ctx: &mut RunCtx) -> Result<TofuBinary, Stop> {
        if let Some(t) = &self.tofu {
            return Ok(t.clone());
        }
        let bin = tofu::locate::locate(self.settings.tofu_path.as_deref())
            .await
            .map_err(tofu_stop)?;
        if let Some(w) = bin.warning() {
            ctx.log(LogLevel::Warn, "tofu", w);
        }
        if ctx.record.engine.as_ref() != Some(&bin) {
            ctx.record.engine = Some(bin.clone());
            ctx.save();
        }
        self.tofu = Some(bin.clone());
        Ok(bin)
    }

    /// A project SSH key with the same public key that this deployment did
    /// not create (its own carries its id label and stays in tofu's state).
    pub(super) async fn existing_key(
        &self,
        token: &str,
        id: &str,
        public: &str,
    ) -> Result<Option<(u64, String)>, Stop> {
        let Some(body) = public.split_whitespace().nth(1) else {
            return Ok(None);
        };
        let client = hetzner::HetznerClient::new(self.hetzner_config(), token).map_err(|e| {
            fail(
                format!("The Hetzner client could not be set up: {}", e.operator_message()),
                "Resume retries.",
            )
        })?;
        let keys = client
            .list::<serde_json::Value>("/ssh_keys", "ssh_keys", &[])
            .await
            .map_err(|e| {
                fail(
                    format!(
                        "The project's SSH keys could not be listed: {}",
                        e.operator_message()
                    ),
                    "Check the network, then Resume.",
                )
            })?;
        Ok(keys.iter().find_map(|k| {
            let same = k["public_key"].as_str().and_then(|p| p.split_whitespace().nth(1)) == Some(body);
            let ours = k["labels"]["catalyst.openova.io/deployment-id"].as_str() == Some(id);
            match (same && !ours, k["id"].as_u64()) {
                (true, Some(key_id)) => Some((key_id, k["name"].as_str().unwrap_or_default().to_owned())),
                _ => None,
            }
        }))
    }

    /// Stages the module and builds the runner (first live run: generates
    /// the host key, k3s token and state passphrase and keeps them).
    pub(super) async fn ensure_runner(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        if self.runner.is_some() {
            return Ok(());
        }
        let id = ctx.record.id.clone();
        let fqdn = ctx.record.fqdn.clone();
        let mut inputs = module_inputs(&id, &fqdn, &ctx.record.answers)?;
        let token = self.hetzner_token(&id).await?;
        if let Some((key_id, name)) = self
            .existing_key(&token, &id, &inputs.admin_ssh_public_key)
            .await?
        {
            ctx.log(
                LogLevel::Info,
                "tofu",
                format!(
                    "The project already has this admin key as \"{name}\" (id {key_id}); it is reused, since Hetzner refuses a second upload (uniqueness_error)."
                ),
            );
            inputs.existing_ssh_key_id = Some(key_id);
        }
        let (host, boot) = self.boot_inputs(ctx).await?;
        let pass = self
            .kept_secret(&names::state_passphrase(&id), || Ok(random_string(40)))
            .await?;
        let work = tofu::module::work_dir(&self.data_dir, &id).map_err(tofu_stop)?;
        let bin = self.locate_tofu(ctx).await?;
        let staged = self.stage(&work, &inputs, &boot, token, pass)?;
        if let Some(mirror) = &staged.mirror {
            ctx.log(
                LogLevel::Info,
                "tofu",
                format!("Using the provider mirror {}", mirror.display()),
            );
        }
        ctx.log(
            LogLevel::Info,
            "tofu",
            format!(
                "Module staged in {} (cloud-init {} bytes at most; host key {}).",
                work.display(),
                staged.largest,
                host.fingerprint()
            ),
        );
        self.runner = Some(Runner::new(bin, work, staged.env));
        Ok(())
    }

    /// What the servers boot with besides the module's inputs: the host
    /// key, the k3s token (both generated once and kept), the GitOps source,
    /// registries and the certificates' issuer.
    pub(super) async fn boot_inputs(
        &mut self,
        ctx: &RunCtx,
    ) -> Result<(crate::keys::GeneratedKey, BootInputs), Stop> {
        let id = ctx.record.id.clone();
        let host = self.host_key(&id, &ctx.record.fqdn).await?;
        let k3s = self
            .kept_secret(&names::k3s_token(&id), || Ok(random_string(48)))
            .await?;
        let host_private = host
            .private_openssh()
            .map_err(|e| {
                fail(
                    format!("The host key could not be encoded: {e}"),
                    "Resume retries.",
                )
            })?
            .to_string();
        register_secret(&host_private);
        let (url, branch) = self.settings.gitops();
        let gitops = GitOpsSource { url, branch };
        let (registry_mirror, pull_secrets) = self.registries().await?;
        let boot = BootInputs {
            k3s_token: Secret::new(k3s),
            host_key: HostKey {
                private_openssh: Secret::new(host_private),
                public_line: host.public_openssh().to_owned(),
            },
            components: ctx.record.answers.components.clone(),
            gitops,
            pull_secrets,
            registry_mirror,
            certificates: self.settings.certificates.unwrap_or_default(),
        };
        Ok((host, boot))
    }

    /// Writes the module and its inputs into `work` and builds tofu's
    /// environment: the provider cache, the mirror (the settings' or the
    /// one shipped with the app), the secrets.
    pub(super) fn stage(
        &self,
        work: &std::path::Path,
        inputs: &ModuleInputs,
        boot: &BootInputs,
        token: String,
        pass: String,
    ) -> Result<Staged, Stop> {
        tofu::module::stage(work, inputs).map_err(tofu_stop)?;
        let rendered = tofu::cloudinit::render(inputs, boot).map_err(tofu_stop)?;
        // One provider cache per user (the data dir), on every run: a second
        // deployment reuses the provider the first one downloaded.
        let cache = self.data_dir.join("tofu-plugin-cache");
        tofu::cliconfig::ensure_cache_dir(&cache).map_err(tofu_stop)?;
        let mut options = TofuEnvOptions {
            hcloud_endpoint: self.hcloud_endpoint(),
            plugin_cache_dir: Some(cache.clone()),
            ..Default::default()
        };
        // A mirror named in the settings wins over the one shipped with the app.
        let mirror = match &self.settings.provider_mirror {
            Some(p) if p.is_dir() => Some(p.clone()),
            Some(p) => {
                return Err(fail(
                    format!(
                        "The provider mirror {} named in the settings is not a directory.",
                        p.display()
                    ),
                    "Fix the provider mirror path in Settings (or clear it to use the one shipped with the app), then Resume.",
                ));
            }
            None => std::env::current_exe()
                .ok()
                .and_then(|exe| tofu::bundled::provider_mirror(&exe)),
        };
        if let Some(mirror) = &mirror {
            options.cli_config_file =
                Some(tofu::cliconfig::write(work, mirror, Some(&cache)).map_err(tofu_stop)?);
        }
        let env = ChildEnv::build(
            &TofuSecrets {
                hcloud_token: Secret::new(token),
                state_passphrase: Secret::new(pass),
            },
            &rendered,
            &options,
        )
        .map_err(tofu_stop)?;
        Ok(Staged {
            env,
            mirror,
            largest: rendered.largest(),
        })
    }

    /// A sink turning tofu's stream into Resource and Log events; counts
    /// completed resources into `done` for progress.
    pub(super) fn tofu_sink(
        ctx: &RunCtx,
        total: Option<u64>,
        done: Arc<AtomicU64>,
    ) -> impl FnMut(TofuEvent) + Send + use<> {
        let em = ctx.emitter();
        move |ev| match ev {
            TofuEvent::PlannedChange { address, action } => em.emit(EventKind::Resource {
                address,
                action: action_str(action),
                state: "planned".into(),
                elapsed_s: 0.0,
            }),
            TofuEvent::ResourceStart { address, action, .. } => em.emit(EventKind::Resource {
                address,
                action: action_str(action),
                state: started_state(action).into(),
                elapsed_s: 0.0,
            }),
            TofuEvent::ResourceProgress {
                address,
                action,
                elapsed_s,
            } => em.emit(EventKind::Resource {
                address,
                action: action_str(action),
                state: started_state(action).into(),
                elapsed_s: elapsed_s as f64,
            }),
            TofuEvent::ResourceComplete {
                address,
                action,
                elapsed_s,
                ..
            } => {
                em.emit(EventKind::Resource {
                    address: address.clone(),
                    action: action_str(action),
                    state: done_state(action).into(),
                    elapsed_s: elapsed_s as f64,
                });
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(total) = total.filter(|t| *t > 0) {
                    em.emit(EventKind::Progress {
                        done: n.min(total),
                        total,
                        label: address,
                    });
                }
            }
            TofuEvent::ResourceErrored {
                address,
                action,
                elapsed_s,
            } => em.emit(EventKind::Resource {
                address,
                action: action_str(action),
                state: "errored".into(),
                elapsed_s: elapsed_s as f64,
            }),
            TofuEvent::ChangeSummary { summary } => log_to(
                &em,
                LogLevel::Info,
                "tofu",
                format!(
                    "{:?}: {} to add, {} to change, {} to destroy.",
                    summary.operation, summary.add, summary.change, summary.remove
                ),
            ),
            TofuEvent::Diagnostic { diagnostic } => {
                let level = match diagnostic.severity {
                    tofu::messages::Severity::Error => LogLevel::Error,
                    tofu::messages::Severity::Warning => LogLevel::Warn,
                };
                let line = diagnostic.one_line();
                log_to(&em, level, "tofu", line);
            }
            TofuEvent::Version { tofu, engine, .. } => {
                log_to(&em, LogLevel::Info, "tofu", format!("{} {tofu}", engine.name()))
            }
            TofuEvent::Init { level, message, .. } => {
                if let Some(level) = LogLevel::from_tofu(level)
                    && !message.trim().is_empty()
                {
                    log_to(&em, level, "tofu", message);
                }
            }
            TofuEvent::Outputs { .. } => {}
            TofuEvent::Log { level, message, .. } => {
                let Some(level) = LogLevel::from_tofu(level) else {
                    return;
                };
                if !message.trim().is_empty() {
                    log_to(&em, level, "tofu", message);
                }
            }
        }
    }

    pub(super) async fn init_tofu(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        self.ensure_runner(ctx).await?;
        let cancel = CancelBridge::new(ctx);
        let mut sink = Self::tofu_sink(ctx, None, Arc::default());
        let Some(runner) = &self.runner else {
            return Err(fail("The OpenTofu runner is missing.", "Resume retries."));
        };
        runner.init(&mut sink, &cancel.tofu).await.map_err(tofu_stop)?;
        Ok(())
    }

    pub(super) async fn plan_tofu(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        self.ensure_runner(ctx).await?;
        let cancel = CancelBridge::new(ctx);
        let mut sink = Self::tofu_sink(ctx, None, Arc::default());
        let Some(runner) = &self.runner else {
            return Err(fail("The OpenTofu runner is missing.", "Resume retries."));
        };
        let summary = runner.plan(&mut sink, &cancel.tofu).await.map_err(tofu_stop)?;
        self.planned = Some(summary.add + summary.change + summary.remove);
        ctx.log(
            LogLevel::Info,
            "tofu",
            format!(
                "Plan: {} to add, {} to change, {} to destroy.",
                summary.add, summary.change, summary.remove
            ),
        );
        Ok(())
    }

    pub(super) async fn apply_tofu(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        self.ensure_runner(ctx).await?;
        let cancel = CancelBridge::new(ctx);
        if self.planned.is_none() {
            // A resume: the saved plan (if any) predates what a failed or
            // cancelled apply wrote to the state, and tofu refuses a stale plan.
            ctx.log(
                LogLevel::Info,
                "tofu",
                "Resuming: planning again first, since a saved plan goes stale once the state changed.",
            );
            let mut sink = Self::tofu_sink(ctx, None, Arc::default());
            let Some(runner) = &self.runner else {
                return Err(fail("The OpenTofu runner is missing.", "Resume retries."));
            };
            let summary = runner.plan(&mut sink, &cancel.tofu).await.map_err(tofu_stop)?;
            self.planned = Some(summary.add + summary.change + summary.remove);
        }
        let done = Arc::new(AtomicU64::new(0));
        let mut sink = Self::tofu_sink(ctx, self.planned, done);
        let Some(runner) = &self.runner else {
            return Err(fail("The OpenTofu runner is missing.", "Resume retries."));
        };
        let summary = runner.apply(&mut sink, &cancel.tofu).await.map_err(tofu_stop)?;
        ctx.log(
            LogLevel::Info,
            "tofu",
            format!(
                "Apply complete! Resources: {} added, {} changed, {} destroyed.",
                summary.add, summary.change, summary.remove
            ),
        );
        let out = runner.output(&cancel.tofu).await.map_err(tofu_stop)?;
        let primary = out.primary_location.clone();
        let mut lbs: Vec<String> = out.primary_lb_ip().map(str::to_owned).into_iter().collect();
        lbs.extend(
            out.load_balancer_ips
                .iter()
                .filter(|(l, _)| **l != primary)
                .map(|(_, ip)| ip.clone()),
        );
        let mut cps: Vec<String> = out.control_plane_ips.get(&primary).cloned().unwrap_or_default();
        for (l, ips) in &out.control_plane_ips {
            if *l != primary {
                cps.extend(ips.iter().cloned());
            }
        }
        if lbs.is_empty() || cps.is_empty() {
            return Err(fail(
                "tofu output names no load balancer or control plane IP.",
                "Resume retries; if it stays so, Wipe and start again.",
            ));
        }
        ctx.record.outputs.regions = ctx
            .record
            .answers
            .regions
            .iter()
            .map(|r| {
                let location = r.location.as_str().to_owned();
                RegionOutputs {
                    control_plane_ips: out.control_plane_ips.get(&location).cloned().unwrap_or_default(),
                    load_balancer_ip: out.load_balancer_ips.get(&location).cloned(),
                    kubeconfig_path: None,
                    location,
                }
            })
            .collect();
        ctx.record_ips(lbs, cps);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_and_differ() {
        let a = random_string(40);
        assert_eq!(a.len(), 40);
        assert_ne!(a, random_string(40));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
