//! The real cloud: every phase against Hetzner (token and catalogue), PDM
//! (reserve, commit, release), OpenTofu (init, plan, apply, output), the
//! control plane over SSH (cloud-init, kubeconfig) and Kubernetes (Flux
//! releases), then the console over TLS. It emits the same event kinds as
//! the demo cloud. Secrets come from the keyring and reach `tofu` only
//! through its environment; none of them enters an event or the record.

use crate::error::ErrorCode;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::cluster::{
    self, CloudInitEvent, CloudInitWait, ClusterError, ComponentState, ConsoleCheck, ServerCommands,
    SshSession, SshTarget, WatchEvent, WatchOptions,
};
use crate::domain::registrar_secret_name;
use crate::domain_delegation;
use crate::events::{EventKind, LogLevel, Phase};
use crate::hetzner::{self, HetznerConfig};
use crate::keys::GeneratedKey;
use crate::pdm::{self, PdmClient, PdmConfig, lifecycle};
use crate::provision::context::{Emitter, PhaseError, RunCtx, Stop};
use crate::provision::phases::{self, expected_releases};
use crate::provision::run_secrets;
use crate::secrets::redact::register_secret;
use crate::secrets::{SecretStore, names};
use crate::settings::Settings;
use crate::store::write_atomic;
use crate::tofu::messages::ResourceAction;
use crate::tofu::{
    self, BootInputs, CancelHandle, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs, RegionSpec,
    RegistryCredential, RegistryMirror, Runner, Secret, TofuBinary, TofuEnvOptions, TofuError, TofuEvent,
    TofuSecrets,
};
use crate::wizard::WizardAnswers;
use crate::wizard::model::{DomainMode, SshKeyMode, Topology as WizardTopology};

/// The wizard keeps the token and the admin key under this owner.
const DEFAULT_SSH_CONNECT: Duration = Duration::from_secs(10 * 60);
const KUBECONFIG_TIMEOUT: Duration = Duration::from_secs(60);
const KUBECONFIG_FILE: &str = "kubeconfig.yaml";

pub fn k3s_token_name(id: &str) -> String {
    format!("k3s-token/{id}")
}

pub fn state_passphrase_name(id: &str) -> String {
    format!("state-passphrase/{id}")
}

/// The live cloud a run talks to. Built per run; what one phase prepares
/// (the tofu runner, the SSH session, the kubeconfig) is kept for the next
/// and rebuilt when a resume starts later.
pub struct LiveCloud {
    settings: Settings,
    secrets: Arc<dyn SecretStore>,
    data_dir: PathBuf,
    tofu: Option<TofuBinary>,
    runner: Option<Runner>,
    planned: Option<u64>,
    session: Option<SshSession>,
    kubeconfig: Option<String>,
}

/// Forwards the run's cancel switch to tofu and the cluster calls.
struct CancelBridge {
    tofu: CancelHandle,
    token: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl CancelBridge {
    fn new(ctx: &RunCtx) -> CancelBridge {
        let mut rx = ctx.cancel_signal();
        let tofu = CancelHandle::new();
        let token = CancellationToken::new();
        let (t, k) = (tofu.clone(), token.clone());
        // Every cancel request reaches tofu (the first interrupts it, the
        // second kills it); the cluster calls stop at the first.
        let task = tokio::spawn(async move {
            let mut forwarded = 0u32;
            loop {
                let asked = *rx.borrow_and_update();
                while forwarded < asked.min(2) {
                    forwarded += 1;
                    t.cancel();
                    k.cancel();
                }
                if forwarded >= 2 || rx.changed().await.is_err() {
                    break;
                }
            }
        });
        CancelBridge { tofu, token, task }
    }
}

impl Drop for CancelBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn log_to(em: &Emitter, level: LogLevel, source: &str, line: impl Into<String>) {
    em.emit(EventKind::Log {
        level,
        source: source.into(),
        line: line.into(),
    });
}

fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn action_str(a: ResourceAction) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn started_state(a: ResourceAction) -> &'static str {
    match a {
        ResourceAction::Create => "creating",
        ResourceAction::Delete => "deleting",
        ResourceAction::Replace => "replacing",
        ResourceAction::Read => "reading",
        _ => "updating",
    }
}

fn done_state(a: ResourceAction) -> &'static str {
    match a {
        ResourceAction::Create => "created",
        ResourceAction::Delete => "deleted",
        ResourceAction::Replace => "replaced",
        ResourceAction::Read => "read",
        _ => "updated",
    }
}

/// What to do about a tofu failure, from the troubleshooting matrix.
pub fn tofu_hint(text: &str) -> String {
    let t = text.to_ascii_lowercase();
    let hint = if t.contains("uniqueness_error") {
        "A resource with this name already exists in the Hetzner project (left by an earlier run). Wipe, then retry."
    } else if t.contains("resource_limit_exceeded") || t.contains("limit exceeded") {
        "The project's quota is reached: ask Hetzner to raise the limit (Console → Limits) or choose fewer or smaller servers, then Resume. Wipe removes what was created."
    } else if t.contains("rate_limit_exceeded") {
        "Hetzner is rate-limiting this token: wait a minute, then Resume."
    } else if t.contains("unauthorized") || t.contains("token_readonly") || t.contains("forbidden") {
        "Hetzner refused the token: check it again in the Credentials step (it must be Read & Write), then Resume."
    } else if t.contains("resource_unavailable") || t.contains("unavailable") {
        "Hetzner has no capacity for this server type in this location right now: pick another type or location, or Resume later."
    } else if t.contains("provider") && (t.contains("registry") || t.contains("query")) {
        "OpenTofu could not fetch the hcloud provider: check the network or the provider mirror shipped with the app, then Resume."
    } else if t.contains("decrypt") || t.contains("encryption") {
        "The state could not be decrypted: the state passphrase in the keyring does not match this deployment's state."
    } else {
        "Resume retries this step (tofu is idempotent); Wipe removes what was created."
    };
    hint.to_owned()
}

fn tofu_stop(e: TofuError) -> Stop {
    match e {
        TofuError::Cancelled { .. } | TofuError::Killed { .. } => Stop::Cancelled,
        other => {
            let text = other.to_string();
            let hint = match &other {
                TofuError::NotFound
                | TofuError::ConfiguredPathMissing(_)
                | TofuError::TooOld { .. }
                | TofuError::TerraformNotNamed { .. } => {
                    "Install OpenTofu 1.8 or newer, or set its path (tofu_path) in the settings, then Resume."
                        .to_owned()
                }
                _ => tofu_hint(&text),
            };
            Stop::Failed(PhaseError::new(text, hint))
        }
    }
}

fn cluster_stop(e: ClusterError) -> Stop {
    match e {
        ClusterError::Cancelled => Stop::Cancelled,
        other => Stop::Failed(PhaseError::new(other.to_string(), other.hint())),
    }
}

fn pdm_stop(what: &str, e: pdm::PdmError) -> Stop {
    let hint = match e.code() {
        ErrorCode::PdmUnreachable => {
            "The pool-domain-manager did not answer: check the network, then Resume."
        }
        ErrorCode::PdmUnauthorized => {
            "PDM refused the login: check the PDM user and password in the settings."
        }
        ErrorCode::SubdomainTaken
        | ErrorCode::SubdomainTakenAfterExpiry
        | ErrorCode::SubdomainAlreadyActive => {
            "The name is taken: start a new run with another subdomain. Wipe removes what this run created."
        }
        _ => "Resume retries this step; Wipe removes what was created.",
    };
    Stop::Failed(PhaseError::new(format!("{what}: {e}"), hint))
}

/// A stop as the wipe reports it (the wipe is never cancelled).
fn stop_error(s: Stop) -> PhaseError {
    match s {
        Stop::Failed(e) => e,
        Stop::Cancelled => PhaseError::new("stopped", "Wipe again."),
    }
}

fn fail(error: impl Into<String>, hint: impl Into<String>) -> Stop {
    Stop::Failed(PhaseError::new(error, hint))
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
    pub fn new(settings: Settings, secrets: Arc<dyn SecretStore>, data_dir: PathBuf) -> LiveCloud {
        LiveCloud {
            settings,
            secrets,
            data_dir,
            tofu: None,
            runner: None,
            planned: None,
            session: None,
            kubeconfig: None,
        }
    }

    pub async fn phase(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let phase = ctx.phase;
        let outcome = match phase {
            Phase::Preflight => self.preflight(ctx).await,
            Phase::ReserveDomain => self.reserve(ctx).await,
            Phase::TofuInit => self.tofu_init(ctx).await,
            Phase::TofuPlan => self.tofu_plan(ctx).await,
            Phase::TofuApply => self.tofu_apply(ctx).await,
            Phase::DnsCommit => self.dns(ctx).await,
            Phase::CloudInit => self.cloud_init(ctx).await,
            Phase::Kubeconfig => self.fetch_kubeconfig(ctx).await,
            Phase::Bootstrap => self.bootstrap(ctx).await,
            Phase::Console => self.console(ctx).await,
            Phase::Done | Phase::Wipe => Ok(()),
        };
        let before_dns = phases::PHASES
            .iter()
            .position(|p| *p == phase)
            .is_some_and(|i| i < 5);
        if matches!(outcome, Err(Stop::Failed(_))) && before_dns {
            self.release_reservation(ctx).await;
        }
        if outcome.is_err()
            && let Some(s) = self.session.take()
        {
            s.close().await;
        }
        outcome
    }

    // ------------------------------------------------------------ helpers

    /// The deployment's own copy of a wizard secret (see run_secrets).
    async fn run_secret(&self, name_of: run_secrets::NameOf, id: &str) -> Result<Option<String>, Stop> {
        let store = self.secrets.clone();
        let id = id.to_owned();
        self.read_secret(move || run_secrets::lookup(store.as_ref(), name_of, &id))
            .await
    }

    async fn secret(&self, name: &str) -> Result<Option<String>, Stop> {
        let store = self.secrets.clone();
        let n = name.to_owned();
        self.read_secret(move || store.get(&n)).await
    }

    async fn read_secret(
        &self,
        read: impl FnOnce() -> Result<Option<String>, crate::secrets::SecretError> + Send + 'static,
    ) -> Result<Option<String>, Stop> {
        let got = tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| fail(format!("The keyring call stopped: {e}"), "Resume retries."))?;
        match got {
            Ok(v) => {
                if let Some(v) = &v {
                    register_secret(v);
                }
                Ok(v)
            }
            Err(e) => Err(fail(
                format!("The keyring could not be read: {}", e.operator_message()),
                "Unlock the keyring (or start its service), then Resume.",
            )),
        }
    }

    async fn set_secret(&self, name: &str, value: &str) -> Result<(), Stop> {
        register_secret(value);
        let store = self.secrets.clone();
        let (n, v) = (name.to_owned(), value.to_owned());
        let done = tokio::task::spawn_blocking(move || store.set(&n, &v))
            .await
            .map_err(|e| fail(format!("The keyring call stopped: {e}"), "Resume retries."))?;
        done.map_err(|e| {
            fail(
                format!("The keyring could not be written: {}", e.operator_message()),
                "Unlock the keyring (or start its service), then Resume.",
            )
        })
    }

    /// The secret under `name`, made by `make` and stored the first time.
    async fn kept_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<String, Stop>,
    ) -> Result<String, Stop> {
        if let Some(v) = self.secret(name).await?.filter(|v| !v.is_empty()) {
            return Ok(v);
        }
        let v = make()?;
        self.set_secret(name, &v).await?;
        Ok(v)
    }

    async fn hetzner_token(&self, id: &str) -> Result<String, Stop> {
        self.run_secret(names::hetzner_token, id)
            .await?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                fail(
                    "No Hetzner token is in the keyring.",
                    "Go back to the Credentials step, check the token again, then Resume.",
                )
            })
    }

    fn hetzner_config(&self) -> HetznerConfig {
        match &self.settings.hetzner_endpoint {
            Some(url) => HetznerConfig::with_base_url(url.clone()),
            None => HetznerConfig::from_env(),
        }
    }

    fn hcloud_endpoint(&self) -> Option<String> {
        self.settings
            .hetzner_endpoint
            .clone()
            .or_else(|| std::env::var("HCLOUD_ENDPOINT").ok())
            .filter(|e| !e.is_empty())
    }

    async fn pdm_client(&self) -> Result<PdmClient, Stop> {
        let Some(p) = &self.settings.pdm else {
            return Err(fail(
                "No pool-domain-manager is configured in the settings.",
                "Add PDM's address in Settings, or start a new run with your own domain.",
            ));
        };
        let password = self
            .secret(&self.settings.pdm_password_secret())
            .await?
            .unwrap_or_default();
        PdmClient::new(PdmConfig::new(&p.url, &p.username, password))
            .map_err(|e| pdm_stop("The PDM client could not be set up", e))
    }

    /// The registry mirror and pull credentials from the settings, their
    /// passwords from the keyring (they reach the nodes through cloud-init).
    async fn registries(&self) -> Result<(Option<RegistryMirror>, Vec<RegistryCredential>), Stop> {
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
    async fn locate_tofu(&mut self, ctx: &mut RunCtx) -> Result<TofuBinary, Stop> {
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

    async fn host_key(&self, id: &str, fqdn: &str) -> Result<GeneratedKey, Stop> {
        let name = names::host_private_key(id);
        let fqdn = fqdn.to_owned();
        let text = self
            .kept_secret(&name, move || {
                let key = crate::keys::generate_host_key(&fqdn).map_err(|e| {
                    fail(
                        format!("The host key could not be generated: {e}"),
                        "Resume retries.",
                    )
                })?;
                let text = key.private_openssh().map_err(|e| {
                    fail(
                        format!("The host key could not be encoded: {e}"),
                        "Resume retries.",
                    )
                })?;
                Ok(text.to_string())
            })
            .await?;
        GeneratedKey::from_private_openssh(&text).map_err(|e| {
            fail(
                format!("The host key in the keyring ({name}) cannot be read: {e}"),
                "Wipe this deployment and start a new run.",
            )
        })
    }

    /// A project SSH key with the same public key that this deployment did
    /// not create (its own carries its id label and stays in tofu's state).
    async fn existing_key(&self, token: &str, id: &str, public: &str) -> Result<Option<(u64, String)>, Stop> {
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
    async fn ensure_runner(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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
        let host = self.host_key(&id, &fqdn).await?;
        let k3s = self
            .kept_secret(&k3s_token_name(&id), || Ok(random_string(48)))
            .await?;
        let pass = self
            .kept_secret(&state_passphrase_name(&id), || Ok(random_string(40)))
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
        };
        let work = tofu::module::work_dir(&self.data_dir, &id).map_err(tofu_stop)?;
        tofu::module::stage(&work, &inputs).map_err(tofu_stop)?;
        let rendered = tofu::cloudinit::render(&inputs, &boot).map_err(tofu_stop)?;
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
        if let Some(mirror) = mirror {
            options.cli_config_file =
                Some(tofu::cliconfig::write(&work, &mirror, Some(&cache)).map_err(tofu_stop)?);
            ctx.log(
                LogLevel::Info,
                "tofu",
                format!("Using the provider mirror {}", mirror.display()),
            );
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
        let bin = self.locate_tofu(ctx).await?;
        ctx.log(
            LogLevel::Info,
            "tofu",
            format!(
                "Module staged in {} (cloud-init {} bytes at most; host key {}).",
                work.display(),
                rendered.largest(),
                host.fingerprint()
            ),
        );
        self.runner = Some(Runner::new(bin, work, env));
        Ok(())
    }

    /// A sink turning tofu's stream into Resource and Log events; counts
    /// completed resources into `done` for progress.
    fn tofu_sink(
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
                let mut line = diagnostic.summary.clone();
                if let Some(a) = &diagnostic.address {
                    line.push_str(&format!(" (with {a})"));
                }
                if !diagnostic.detail.is_empty() {
                    line.push_str(": ");
                    line.push_str(&diagnostic.detail);
                }
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

    async fn release_reservation(&self, ctx: &mut RunCtx) {
        let Some(res) = ctx.record.reservation.clone() else {
            return;
        };
        let client = match self.pdm_client().await {
            Ok(c) => c,
            Err(_) => {
                ctx.log(
                    LogLevel::Warn,
                    "pdm",
                    format!("{} could not be released: PDM is not configured.", res.fqdn()),
                );
                return;
            }
        };
        match lifecycle::release_on_failure(&client, &res).await {
            Ok(lifecycle::ReleaseReport::Released(_)) => {
                ctx.log(
                    LogLevel::Info,
                    "pdm",
                    format!("Released the reservation of {} after the failure.", res.fqdn()),
                );
                ctx.record.reservation = None;
                ctx.save();
            }
            Ok(lifecycle::ReleaseReport::LeftAlone { reason }) => ctx.log(LogLevel::Warn, "pdm", reason),
            Err(e) => ctx.log(
                LogLevel::Warn,
                "pdm",
                format!("The reservation of {} could not be released: {e}", res.fqdn()),
            ),
        }
    }

    // ------------------------------------------------------------ wipe

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

    // ------------------------------------------------------------ phases

    async fn preflight(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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
            return Err(fail(
                check.message.clone(),
                "Create a Read & Write token in the Hetzner Cloud Console, check it in the Credentials step, then Resume.",
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
            key_note = "✓ Admin SSH key parsed (pasted: the app cannot log in to watch cloud-init without its private half)".into();
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

    async fn reserve(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let d = ctx.record.answers.domain.clone();
        if d.mode != DomainMode::Pool {
            ctx.log(
                LogLevel::Info,
                "pdm",
                format!("{} is your own domain: nothing to reserve.", ctx.record.fqdn),
            );
            return Ok(());
        }
        let client = self.pdm_client().await?;
        let res = lifecycle::reserve_for_run(
            &client,
            &d.pool_domain,
            &d.subdomain,
            ctx.record.reservation.as_ref(),
        )
        .await
        .map_err(|e| pdm_stop("The domain could not be reserved", e))?;
        let line = format!("Reserved {} until {}.", res.fqdn(), res.expires_at);
        ctx.record.reservation = Some(res);
        ctx.save();
        ctx.log(LogLevel::Info, "pdm", line);
        Ok(())
    }

    async fn tofu_init(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        self.ensure_runner(ctx).await?;
        let cancel = CancelBridge::new(ctx);
        let mut sink = Self::tofu_sink(ctx, None, Arc::default());
        let Some(runner) = &self.runner else {
            return Err(fail("The OpenTofu runner is missing.", "Resume retries."));
        };
        runner.init(&mut sink, &cancel.tofu).await.map_err(tofu_stop)?;
        Ok(())
    }

    async fn tofu_plan(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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

    async fn tofu_apply(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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
        ctx.record_ips(lbs, cps);
        Ok(())
    }

    async fn dns(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let fqdn = ctx.record.fqdn.clone();
        let lb = ctx
            .record
            .outputs
            .load_balancer_ips
            .first()
            .cloned()
            .unwrap_or_default();
        let d = ctx.record.answers.domain.clone();
        match d.mode {
            DomainMode::Pool => {
                let ip: Ipv4Addr = lb.parse().map_err(|_| {
                    fail(
                        format!("The load balancer IP {lb:?} is not an IPv4 address."),
                        "Resume from \"Create the cloud resources\" to read the outputs again.",
                    )
                })?;
                let client = self.pdm_client().await?;
                let mut res = match ctx.record.reservation.clone() {
                    Some(r) => r,
                    None => {
                        let r = lifecycle::reserve_for_run(&client, &d.pool_domain, &d.subdomain, None)
                            .await
                            .map_err(|e| pdm_stop("The domain could not be reserved again", e))?;
                        ctx.log(LogLevel::Info, "pdm", format!("Reserved {} again.", r.fqdn()));
                        r
                    }
                };
                let report = lifecycle::commit_with_rereserve(&client, &mut res, ip).await;
                // The reservation may have been renewed even when the commit failed.
                ctx.record.reservation = Some(res);
                ctx.save();
                let report = report.map_err(|e| pdm_stop("DNS could not be committed", e))?;
                if report.re_reserved {
                    ctx.log(
                        LogLevel::Warn,
                        "pdm",
                        "The reservation had expired before the commit; it was taken again.",
                    );
                }
                if let Some(w) = &report.outcome.dns_warning {
                    ctx.log(LogLevel::Warn, "pdm", w.clone());
                }
                ctx.log(
                    LogLevel::Info,
                    "pdm",
                    format!("Committed {fqdn} → {}.", report.outcome.load_balancer_ip),
                );
            }
            DomainMode::ByoApi => {
                let kind = d
                    .registrar
                    .as_deref()
                    .and_then(pdm::RegistrarKind::from_id)
                    .ok_or_else(|| {
                        fail(
                            "The answers name no registrar to set the nameservers with.",
                            "Choose the registrar in the Domain step and start a new run.",
                        )
                    })?;
                let credential = self
                    .run_secret(registrar_secret_name, &ctx.record.id)
                    .await?
                    .ok_or_else(|| {
                        fail(
                            format!("The {kind} credential is not in the keyring."),
                            "Enter and validate it again in the Domain step, then Resume.",
                        )
                    })?;
                let client = self.pdm_client().await?;
                let ns = self.settings.nameservers();
                let change = client
                    .registrar_set_ns(kind, &fqdn, &credential, &ns)
                    .await
                    .map_err(|e| pdm_stop(&format!("{kind} could not point {fqdn} at the nameservers"), e))?;
                ctx.log(
                    LogLevel::Info,
                    "dns",
                    format!(
                        "{kind} now delegates {} to {}; the registrar says propagation takes {}. The Sovereign points it at {lb}.",
                        change.domain,
                        change.nameservers.join(", "),
                        change.propagation
                    ),
                );
            }
            DomainMode::ByoManual => {
                let ns = self.settings.nameservers().join(", ");
                ctx.log(
                    LogLevel::Info,
                    "dns",
                    format!(
                        "{fqdn} is your own domain: delegate it to {ns}; the Sovereign serves its DNS and points it at {lb}."
                    ),
                );
            }
        }
        Ok(())
    }

    async fn connect(&mut self, ctx: &RunCtx, cancel: &CancellationToken) -> Result<(), Stop> {
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
        let admin_text = self
            .run_secret(names::admin_private_key, &ctx.record.id)
            .await?
            .ok_or_else(|| {
                fail(
                    "The admin private key is not in the keyring, so the app cannot log in to the control plane.",
                    "Generated keys live in the keyring; with a pasted key, follow cloud-init yourself (ssh root@<control plane> tail -f /var/log/cloud-init-output.log).",
                )
            })?;
        let admin = GeneratedKey::from_private_openssh(&admin_text).map_err(|e| {
            fail(
                format!("The admin key in the keyring cannot be read: {e}"),
                "Generate the key again in the Credentials step.",
            )
        })?;
        let host = self.host_key(&ctx.record.id, &ctx.record.fqdn).await?;
        let user = self.settings.ssh_user.clone().unwrap_or_else(|| "root".into());
        let address = self.settings.ssh_host.clone().unwrap_or(cp);
        let mut target = SshTarget::new(&address, &user, &admin, host.public_openssh());
        target.port = self.settings.ssh_port.unwrap_or(22);
        if let Some(p) = &self.settings.ssh_server_paths {
            target.commands = ServerCommands::with_paths("root", &p.cloud_init_log, &p.kubeconfig);
        }
        let timeout = self
            .settings
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

    async fn cloud_init(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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

    fn kubeconfig_path(&self, id: &str) -> PathBuf {
        self.data_dir.join("deployments").join(id).join(KUBECONFIG_FILE)
    }

    async fn fetch_kubeconfig(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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
        session.close().await;
        let mut yaml = fetched.map_err(cluster_stop)?;
        if let Some(url) = &self.settings.kube_api_override {
            yaml = point_at(&yaml, url);
        }
        let path = self.kubeconfig_path(&ctx.record.id);
        write_private(&path, yaml.as_bytes()).map_err(|e| {
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

    async fn bootstrap(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
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

    async fn console(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let fqdn = ctx.record.fqdn.clone();
        let mut check = ConsoleCheck::for_fqdn(&fqdn);
        check.timeout = self.settings.timeouts.limit(Phase::Console);
        if let Some(url) = &self.settings.console_url_override {
            check.url = url.clone();
        }
        if let Some(s) = self.settings.console_interval_s {
            check.interval = Duration::from_secs(s.max(1));
        }
        if let Some(p) = &self.settings.console_ca_file {
            let pem = std::fs::read_to_string(p).map_err(|e| {
                fail(
                    format!("The console CA file {} cannot be read: {e}", p.display()),
                    "Fix console_ca_file in the settings, then Resume.",
                )
            })?;
            check.extra_root_ca_pem = Some(pem);
        }
        let cancel = CancelBridge::new(ctx);
        let em = ctx.emitter();
        let url = check.url.clone();
        let mut on_attempt = move |n: u32, why: &str| {
            log_to(
                &em,
                LogLevel::Info,
                "console",
                format!("{url}: attempt {n}: {why}; retrying"),
            )
        };
        let ready = cluster::wait_ready(&check, &cancel.token, &mut on_attempt)
            .await
            .map_err(cluster_stop)?;
        ctx.log(
            LogLevel::Info,
            "console",
            format!(
                "{} answers over verified TLS (HTTP {}, attempt {}).",
                ready.url, ready.status, ready.attempts
            ),
        );
        ctx.record.outputs.console_url = Some(format!("https://console.{fqdn}"));
        ctx.record.outputs.gitea_url = Some(format!("https://gitea.{fqdn}"));
        ctx.save();
        if ctx.record.answers.domain.mode != DomainMode::Pool {
            let d = domain_delegation::check(
                &fqdn,
                &self.settings.nameservers(),
                self.settings.dns_resolver,
                DELEGATION_CHECK_TIMEOUT,
            )
            .await;
            let level = if d.visible { LogLevel::Info } else { LogLevel::Warn };
            ctx.log(level, "dns", d.message.clone());
            ctx.record.outputs.delegation = Some(d);
            ctx.save();
        }
        Ok(())
    }
}

/// The delegation check may not hold up the end of a run for long.
const DELEGATION_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Points every `server:` line of a kubeconfig at `url`.
fn point_at(yaml: &str, url: &str) -> String {
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

/// Writes atomically and makes sure the file is owner-only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_matrix() {
        assert!(tofu_hint("Error: ssh key not unique (uniqueness_error)").contains("Wipe, then retry"));
        assert!(tofu_hint("server limit exceeded (resource_limit_exceeded)").contains("quota"));
        assert!(tofu_hint("something else").contains("Resume"));
    }

    #[test]
    fn server_lines_are_replaced_and_the_rest_kept() {
        let y = "clusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";
        let out = point_at(y, "http://127.0.0.1:9999");
        assert_eq!(
            out,
            "clusters:\n- cluster:\n    server: http://127.0.0.1:9999\n  name: default\n"
        );
    }

    #[test]
    fn generated_secrets_are_long_and_differ() {
        let a = random_string(40);
        assert_eq!(a.len(), 40);
        assert_ne!(a, random_string(40));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
