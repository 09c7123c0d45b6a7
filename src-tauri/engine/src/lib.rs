//! The engine: everything the app knows, behind one async API (`Engine`).
//! Its own crate with no `tauri` or WebKit dependency, so the compiler keeps
//! the boundary: the window, the websocket bridge and the CLI are adapters
//! over this API in the app crate.

pub mod catalog;
pub mod cluster;
pub mod console_open;
pub mod credentials;
pub mod demo;
pub mod diagnostics;
pub mod domain;
pub mod domain_delegation;
pub mod engine_check;
pub mod error;
pub mod events;
pub mod exports;
pub mod handover;
pub mod hetzner;
pub mod keys;
pub mod paths;
pub mod pdm;
pub mod provision;
pub mod replay;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod tofu;
pub mod wipe;
pub mod wizard;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use catalog::{Catalog, Estimate, Selection, ServerOffers};
use events::EventBus;
pub use paths::Paths;
use settings::{Mode, Settings};
use std::sync::{Arc, RwLock};
use store::Store;
use wizard::change::{ChangeArgs, ChangeOutcome};
use wizard::{FieldError, Step, WizardAnswers};

pub use error::{ApiError, ErrorCode};

/// The window's title in live mode.
pub const LIVE_WINDOW_TITLE: &str = "Catalyst Provisioner — LIVE: runs create billed resources";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub mode: Mode,
    /// Why the app is in this mode, in one sentence for the banner.
    pub mode_reason: String,
    /// Live mode: the pool-domain-manager runs reserve names with.
    pub pdm_url: Option<String>,
    /// Live mode: the Hetzner API the app talks to.
    pub hetzner_api: Option<String>,
    pub data_dir: String,
    pub log_dir: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ValidateArgs {
    pub step: Step,
    pub answers: WizardAnswers,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RemovalArgs {
    pub selected: Vec<String>,
    pub id: String,
}

/// The fixed choices of the wizard, from the engine so every adapter offers
/// and accepts the same ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WizardOptions {
    pub industries: Vec<String>,
    pub org_sizes: Vec<String>,
    pub compliance_frameworks: Vec<String>,
    pub pool_domains: Vec<String>,
    pub registrars: Vec<pdm::RegistrarInfo>,
    pub nameservers: Vec<String>,
    pub reserved_subdomains: Vec<String>,
    pub max_workers: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StepInfo {
    pub step: Step,
    pub number: u32,
    pub title: String,
}

pub struct Engine {
    paths: Paths,
    /// Replaced by a save; a run takes a copy when it starts.
    settings: RwLock<Settings>,
    settings_error: Option<String>,
    forced_demo: bool,
    store: Store,
    bus: EventBus,
    /// Live server types and prices once a token was validated; the embedded
    /// snapshot until then.
    live_offers: RwLock<Option<ServerOffers>>,
    /// The wizard's and runs' secrets: memory in demo, the OS keyring in live
    /// (swapped when the mode changes; see settings::mode_switch).
    secrets: RwLock<Arc<dyn secrets::SecretStore>>,
    /// Tests hand in their own store: a mode change keeps it.
    secrets_given: bool,
    save_dialog: RwLock<Option<Arc<dyn keys::SaveDialog + Send + Sync>>>,
    open_dialog: RwLock<Option<Arc<dyn settings::profile::OpenDialog + Send + Sync>>>,
    /// Opens a URL in the system browser (the window's adapter sets it).
    url_opener: RwLock<Option<Arc<dyn console_open::UrlOpener + Send + Sync>>>,
    /// Where the settings' own secrets (PDM password, registry credentials) live.
    settings_secrets: std::sync::OnceLock<Arc<dyn secrets::SecretStore>>,
    /// The mode in effect: chosen at start, changed by a saved setting when
    /// nothing runs (adapters watch it: the window's title follows).
    mode: tokio::sync::watch::Sender<Mode>,
    /// Runs going on now: their cancel switches.
    runs: provision::RunSwitches,
    /// Wipes going on now (one per deployment).
    wipes: wipe::WipesInFlight,
}

impl Engine {
    /// Builds the engine over the given paths. Unreadable settings do not stop
    /// the app: it falls back to demo mode and says why.
    pub fn new(paths: Paths, force_demo: bool) -> Engine {
        Self::build(paths, force_demo, None)
    }

    /// An engine over a given secret store (tests use the in-memory one).
    pub fn with_secrets(paths: Paths, force_demo: bool, store: Arc<dyn secrets::SecretStore>) -> Engine {
        Self::build(paths, force_demo, Some(store))
    }

    fn build(paths: Paths, force_demo: bool, secrets: Option<Arc<dyn secrets::SecretStore>>) -> Engine {
        let (settings, settings_error) = match Settings::load(&paths.config_dir) {
            Ok(s) => (s, None),
            Err(e) => (Settings::default(), Some(e)),
        };
        let store = Store::new(paths.data_dir.clone());
        // A run found mid-phase was interrupted (crash, closed app): say so.
        let interrupted = store::deployments::Deployments::new(&paths.data_dir).recover();
        if !interrupted.is_empty() {
            tracing::warn!(?interrupted, "runs found interrupted at start");
        }
        let demo = force_demo || settings.mode() == Mode::Demo;
        // Demo mode keeps its pretend secrets in memory: it must run on a
        // laptop without any keyring.
        let settings_secrets = std::sync::OnceLock::new();
        let secrets_given = secrets.is_some();
        let secrets: Arc<dyn secrets::SecretStore> = match secrets {
            Some(s) => {
                let _ = settings_secrets.set(s.clone());
                s
            }
            None if demo => Arc::new(secrets::MemoryStore::new()),
            None => {
                let s: Arc<dyn secrets::SecretStore> =
                    Arc::new(secrets::OsKeyring::detect(secrets::store::KEYRING_SERVICE));
                let _ = settings_secrets.set(s.clone());
                s
            }
        };
        let started_mode = if demo { Mode::Demo } else { Mode::Live };
        Engine {
            paths,
            settings: RwLock::new(settings),
            settings_error,
            forced_demo: force_demo,
            store,
            bus: EventBus::new(),
            live_offers: RwLock::new(None),
            secrets: RwLock::new(secrets),
            secrets_given,
            save_dialog: RwLock::new(None),
            open_dialog: RwLock::new(None),
            url_opener: RwLock::new(None),
            settings_secrets,
            mode: tokio::sync::watch::Sender::new(started_mode),
            runs: Arc::default(),
            wipes: Arc::default(),
        }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn events(&self) -> &EventBus {
        &self.bus
    }

    /// The mode in effect now.
    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// Follows the mode: an adapter's window title, for one.
    pub fn mode_changes(&self) -> tokio::sync::watch::Receiver<Mode> {
        self.mode.subscribe()
    }

    /// The secret store of the mode in effect.
    pub(crate) fn secrets(&self) -> Arc<dyn secrets::SecretStore> {
        self.secrets.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub async fn app_info(&self) -> Result<AppInfo, ApiError> {
        let mode = self.mode();
        let mode_reason = match (mode, &self.settings_error) {
            (Mode::Live, _) => "Live mode: runs create real, billable resources.".to_owned(),
            (Mode::Demo, Some(e)) => {
                format!("The settings could not be read, so the app stays in demo mode: {e}")
            }
            (Mode::Demo, None) if self.forced_demo => "Demo mode was asked for at start (--demo).".to_owned(),
            (Mode::Demo, None) => {
                "Nothing is configured yet; live provisioning is set up in Settings.".to_owned()
            }
        };
        let settings = self.current_settings();
        let live = mode == Mode::Live;
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            mode,
            mode_reason,
            pdm_url: settings
                .pdm
                .as_ref()
                .map(|p| p.url.trim().to_owned())
                .filter(|u| live && !u.is_empty()),
            hetzner_api: live.then(|| {
                settings
                    .hetzner_endpoint
                    .clone()
                    .unwrap_or_else(|| crate::hetzner::HetznerConfig::from_env().base_url)
            }),
            data_dir: self.paths.data_dir.display().to_string(),
            log_dir: self.paths.log_dir.display().to_string(),
        })
    }

    pub async fn wizard_steps(&self) -> Result<Vec<StepInfo>, ApiError> {
        Ok(Step::ALL
            .iter()
            .map(|s| StepInfo {
                step: *s,
                number: s.number() as u32,
                title: s.title().to_owned(),
            })
            .collect())
    }

    pub async fn wizard_defaults(&self) -> Result<WizardAnswers, ApiError> {
        Ok(WizardAnswers::defaults())
    }

    pub(crate) fn offers(&self) -> ServerOffers {
        let live = self.live_offers.read().unwrap_or_else(|e| e.into_inner());
        live.clone().unwrap_or_else(|| catalog::snapshot().clone())
    }

    /// Replaces the snapshot with what the Hetzner API said for this token.
    pub fn set_live_offers(&self, offers: ServerOffers) {
        *self.live_offers.write().unwrap_or_else(|e| e.into_inner()) = Some(offers);
    }

    pub async fn wizard_options(&self) -> Result<WizardOptions, ApiError> {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Ok(WizardOptions {
            industries: strings(wizard::model::INDUSTRIES),
            org_sizes: strings(wizard::model::ORG_SIZES),
            compliance_frameworks: strings(wizard::model::COMPLIANCE_FRAMEWORKS),
            pool_domains: self.current_settings().pools(),
            registrars: pdm::registrars(),
            nameservers: self.current_settings().nameservers(),
            reserved_subdomains: strings(&pdm::RESERVED_LABELS),
            max_workers: wizard::model::MAX_WORKERS,
        })
    }

    pub async fn wizard_validate(&self, args: ValidateArgs) -> Result<Vec<FieldError>, ApiError> {
        let offers = self.offers();
        let pools = self.current_settings().pools();
        let ctx = wizard::Context {
            offers: &offers,
            pools: &pools,
        };
        let mut errors = wizard::validate_step(args.step, &args.answers, &ctx);
        if args.step == wizard::Step::Review
            && let Some(e) = self.pasted_key_problem(&args.answers).await
        {
            errors.push(e);
        }
        Ok(errors)
    }

    pub async fn wizard_change(&self, args: ChangeArgs) -> Result<ChangeOutcome, ApiError> {
        wizard::change::apply(args.answers, args.change, &self.offers())
            .map_err(|m| ApiError::new(ErrorCode::InvalidChange, m))
    }

    pub async fn wizard_estimate(&self, answers: WizardAnswers) -> Result<Estimate, ApiError> {
        Ok(catalog::estimate(&answers, &self.offers()))
    }

    pub async fn server_offers(&self) -> Result<ServerOffers, ApiError> {
        Ok(self.offers())
    }

    pub async fn component_catalog(&self) -> Result<Catalog, ApiError> {
        Ok(catalog::catalog().clone())
    }

    /// What removing a component would take with it, for the confirmation.
    pub async fn component_removal(&self, args: RemovalArgs) -> Result<Selection, ApiError> {
        catalog::catalog()
            .removal(&args.selected, &args.id)
            .map_err(|m| ApiError {
                code: ErrorCode::Mandatory,
                message: m,
                field: Some("components".into()),
            })
    }

    /// The saved draft, with the checks made in the other mode undone (and
    /// named, for the operator to make again).
    pub async fn draft_load(&self) -> Result<Option<wizard::recheck::Draft>, ApiError> {
        let loaded = self.store.load_draft().map_err(|e| {
            ApiError::new(
                ErrorCode::DraftUnreadable,
                format!("The saved draft could not be read ({e}); it was kept as it is."),
            )
        })?;
        Ok(loaded.map(|(answers, then)| wizard::recheck::for_mode(answers, then, self.mode())))
    }

    pub async fn draft_save(&self, answers: WizardAnswers) -> Result<(), ApiError> {
        self.store.save_draft(&answers, self.mode()).map_err(|e| {
            ApiError::new(
                ErrorCode::DraftWriteFailed,
                format!("The draft could not be saved: {e}"),
            )
        })
    }

    pub async fn draft_clear(&self) -> Result<(), ApiError> {
        self.store.clear_draft().map_err(|e| {
            ApiError::new(
                ErrorCode::DraftWriteFailed,
                format!("The draft could not be removed: {e}"),
            )
        })
    }
}
