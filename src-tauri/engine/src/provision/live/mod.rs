//! The real cloud: every phase against Hetzner (token and catalogue), PDM
//! (reserve, commit, release), OpenTofu (init, plan, apply, output), the
//! control plane over SSH (cloud-init, kubeconfig) and Kubernetes (Flux
//! releases), then the console over TLS. It emits the same event kinds as
//! the demo cloud. Secrets come from the keyring and reach `tofu` only
//! through its environment; none of them enters an event or the record.

mod admin_auth;
mod cloud_credentials;
mod cluster;
mod console;
mod domain;
mod hints;
mod keyring;
mod preflight;
pub mod preview;
mod regions;
mod tofu;
mod wipe;

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::cluster::SshSession;
use crate::events::{EventKind, LogLevel, Phase};
use crate::hetzner::HetznerConfig;
use crate::provision::context::{Emitter, RunCtx, Stop};
use crate::provision::orchestrator::{PhaseResult, PhaseRunner};
use crate::secrets::SecretStore;
use crate::settings::Settings;
use crate::tofu::runner::CancelLevel;
use crate::tofu::{CancelHandle, Runner, TofuBinary};

pub use hints::tofu_hint;
pub use tofu::module_inputs;

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
    /// Open SSH sessions, by region location.
    sessions: std::collections::BTreeMap<String, SshSession>,
    /// Each region's kubeconfig as fetched, by location (the primary first).
    kubeconfigs: Vec<(String, String)>,
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
            let mut forwarded = CancelLevel::None;
            loop {
                let asked = *rx.borrow_and_update();
                while forwarded < asked {
                    forwarded = forwarded.escalated();
                    t.cancel();
                    k.cancel();
                }
                if forwarded == CancelLevel::Kill || rx.changed().await.is_err() {
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

impl LiveCloud {
    pub fn new(settings: Settings, secrets: Arc<dyn SecretStore>, data_dir: PathBuf) -> LiveCloud {
        LiveCloud {
            settings,
            secrets,
            data_dir,
            tofu: None,
            runner: None,
            planned: None,
            sessions: Default::default(),
            kubeconfigs: Vec::new(),
        }
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
}

impl PhaseRunner for LiveCloud {
    async fn preflight(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.preflight_checks(ctx).await
    }

    async fn reserve_domain(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.reserve_name(ctx).await
    }

    async fn tofu_init(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.init_tofu(ctx).await
    }

    async fn tofu_plan(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.plan_tofu(ctx).await
    }

    async fn tofu_apply(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.apply_tofu(ctx).await
    }

    async fn dns_commit(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.commit_dns(ctx).await
    }

    async fn cloud_init(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.follow_cloud_init(ctx).await
    }

    async fn kubeconfig(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.fetch_kubeconfig(ctx).await
    }

    async fn bootstrap(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.watch_bootstrap(ctx).await
    }

    async fn console(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.wait_for_console(ctx).await
    }

    /// A failure before DNS points the name anywhere gives a pool name back;
    /// any stop closes the SSH sessions (a resume opens new ones).
    async fn stopped(&mut self, phase: Phase, stop: &Stop, ctx: &mut RunCtx) {
        if matches!(stop, Stop::Failed(_)) && phase.is_before(Phase::DnsCommit) {
            self.release_reservation(ctx).await;
        }
        for (_, s) in std::mem::take(&mut self.sessions) {
            s.close().await;
        }
    }
}
