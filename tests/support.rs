//! Helpers for suites that drive a live run through the engine API against
//! the fakes (the same steps tests/live_run.rs takes): settings in a
//! temporary home, an engine with an in-memory keyring, the wizard's
//! answers, and waits on the record on disk.

use std::sync::Arc;
use std::time::Duration;

use catalyst_provisioner::api::{Call, dispatch};
use catalyst_provisioner::engine::credentials::{FqdnArgs, TokenArgs};
use catalyst_provisioner::engine::events::ProvisionEvent;
use catalyst_provisioner::engine::hetzner::TokenScope;
use catalyst_provisioner::engine::keys::AdminKeyInfo;
use catalyst_provisioner::engine::provision::{EventsArgs, IdArgs};
use catalyst_provisioner::engine::secrets::{MemoryStore, SecretStore};
use catalyst_provisioner::engine::store::deployments::DeploymentRecord;
use catalyst_provisioner::engine::wizard::WizardAnswers;
use catalyst_provisioner::engine::{ApiError, Engine, ErrorCode, Paths};
use serde_json::{Value, json};

use crate::fakes::hetzner::{FakeHetzner, RW_TOKEN};
use crate::fakes::pdm::FakePdm;

/// A request as the wire carries it (`{"cmd": …, "args": …}`) and its answer
/// as JSON: for tests of the wire format itself. Everything else calls the
/// typed `Engine` methods.
pub async fn call(engine: &Engine, v: Value) -> Result<Value, ApiError> {
    let c: Call = serde_json::from_value(v).map_err(|e| ApiError::new(ErrorCode::BadCall, e.to_string()))?;
    dispatch(engine, c).await
}

/// Live-mode settings against the fakes: Hetzner's endpoint, PDM with its
/// password in the keyring as `pdm-password`, and the `tofu` at `tofu_path`
/// (integration tests pass `env!("CARGO_BIN_EXE_tofu")`, which only they see).
/// Tests that need more set keys on the returned value.
pub fn live_settings(hetzner: &FakeHetzner, pdm: &FakePdm, tofu_path: &str) -> Value {
    json!({
        "mode": "live",
        "hetzner_endpoint": hetzner.base_url(),
        "pdm": {"url": pdm.base_url(), "username": pdm.username(), "password_secret": "pdm-password"},
        "tofu_path": tofu_path,
    })
}

/// The engine a live-run suite drives: the real one (OpenTofu from
/// `CATALYST_REAL_TOFU`, or the machine's Terraform) with the stand-in hcloud
/// provider from a mirror, or, on a developer machine without a real engine
/// (never in CI: `CATALYST_REQUIRE_REAL_ENGINE=1` makes that a failure), the
/// stand-in `tofu`, said on stderr.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineUnderTest {
    Real(std::path::PathBuf),
    StandIn,
}

impl EngineUnderTest {
    /// Whether state and plan in the work dir are encrypted: OpenTofu reads
    /// TF_ENCRYPTION, the stand-in honours it, Terraform ignores it (its
    /// state holds user_data: the host key and the k3s token).
    pub fn encrypts_state(&self) -> bool {
        match self {
            EngineUnderTest::StandIn => true,
            EngineUnderTest::Real(p) => !is_terraform(p),
        }
    }
}

fn is_terraform(engine: &std::path::Path) -> bool {
    use catalyst_provisioner::engine::tofu::{EngineKind, locate};
    std::process::Command::new(engine)
        .args(["version", "-json"])
        .output()
        .ok()
        .and_then(|o| locate::parse_version_json(&String::from_utf8_lossy(&o.stdout)).ok())
        .is_some_and(|(_, kind)| kind == EngineKind::Terraform)
}

/// Live settings as `live_settings`, running the engine under test: a real
/// engine gets the provider mirror laid out under `home` (as the bundle
/// ships it) and its path named in Settings (Terraform is accepted only so).
pub fn real_engine_settings(
    hetzner: &FakeHetzner,
    pdm: &FakePdm,
    home: &std::path::Path,
) -> (Value, EngineUnderTest) {
    use crate::fakes::real_engine;
    let Some(engine) = real_engine::engine_or_fall_back() else {
        let stand_in = app_binary().with_file_name("tofu");
        return (
            live_settings(hetzner, pdm, &stand_in.display().to_string()),
            EngineUnderTest::StandIn,
        );
    };
    let mirror = real_engine::lay_out_mirror(&home.join("provider-mirror"));
    let mut s = live_settings(hetzner, pdm, &engine.display().to_string());
    s["provider_mirror"] = json!(mirror.display().to_string());
    (s, EngineUnderTest::Real(engine))
}

/// `provision_start` with the answers as they are: no demo scenario, no speed.
pub async fn start_run(
    engine: &Engine,
    answers: WizardAnswers,
) -> Result<catalyst_provisioner::engine::store::deployments::DeploymentSummary, ApiError> {
    engine
        .provision_start(catalyst_provisioner::engine::provision::StartArgs {
            answers,
            scenario: None,
            speed: None,
        })
        .await
}

/// Seconds since midnight of an event's RFC 3339 UTC time ("…T03:10:07.125Z").
pub fn seconds_of_day(at: &str) -> f64 {
    let time = at.split_once('T').map_or("", |(_, t)| t).trim_end_matches('Z');
    time.split(':')
        .zip([3600.0, 60.0, 1.0])
        .map(|(part, unit)| part.parse::<f64>().unwrap_or(0.0) * unit)
        .sum()
}

/// The keys of `settings` that are test seams, not operator settings: the
/// app reads them from `overrides.json` only (engine settings/overrides.rs).
pub const OVERRIDE_KEYS: [&str; 16] = [
    "ssh_host",
    "node_join_timeout_s",
    "ssh_port_by_location",
    "ssh_agent_socket",
    "ssh_port",
    "ssh_user",
    "ssh_connect_timeout_s",
    "ssh_server_paths",
    "kube_api_override",
    "console_url_override",
    "console_ca_file",
    "console_interval_s",
    "dns_resolver",
    "wipe_sweep_deadline_s",
    "wipe_poll_ms",
    "wipe_retry_base_ms",
];

/// Writes `settings` into `config_dir` as the app reads it: the operator's
/// keys to `settings.json`, the seams among them to `overrides.json`.
pub fn write_settings(config_dir: &std::path::Path, settings: &Value) {
    std::fs::create_dir_all(config_dir).unwrap();
    let mut operator = settings.as_object().cloned().unwrap_or_default();
    let mut seams = serde_json::Map::new();
    for k in OVERRIDE_KEYS {
        if let Some(v) = operator.remove(k) {
            seams.insert(k.to_owned(), v);
        }
    }
    std::fs::write(
        config_dir.join("settings.json"),
        Value::Object(operator).to_string(),
    )
    .unwrap();
    std::fs::write(
        config_dir.join("overrides.json"),
        Value::Object(seams).to_string(),
    )
    .unwrap();
}

/// An engine in live mode over `settings`, with PDM's password in its keyring.
pub fn live_engine(paths: &Paths, settings: &Value, pdm: &FakePdm) -> (Arc<MemoryStore>, Engine) {
    write_settings(&paths.config_dir, settings);
    let secrets = Arc::new(MemoryStore::new());
    secrets.set("pdm-password", &pdm.password()).unwrap();
    let store: Arc<dyn SecretStore> = secrets.clone();
    (secrets, Engine::with_secrets(paths.clone(), false, store))
}

/// The wizard's path: defaults, token check against the fake, a generated key.
pub async fn wizard_answers_typed(engine: &Engine, sub: &str) -> (WizardAnswers, AdminKeyInfo) {
    answers_through_the_wizard(engine, sub, RW_TOKEN).await
}

/// `wizard_answers_typed` as JSON, for suites that edit the answers and read
/// the key as JSON values.
pub async fn wizard_answers(engine: &Engine, sub: &str) -> (Value, Value) {
    let (a, key) = wizard_answers_typed(engine, sub).await;
    (json!(a), json!(key))
}

/// The wizard's defaults with a name, the pool subdomain `sub` and an admin
/// e-mail: a complete answers file but for the credentials, which a
/// headless run brings itself.
pub async fn answers_without_credentials(engine: &Engine, sub: &str) -> WizardAnswers {
    let mut a = engine.wizard_defaults().await.unwrap();
    a.organisation.name = "Omantel".into();
    a.domain.subdomain = sub.into();
    a.domain.admin_email = "platform@omantel.om".into();
    a
}

/// Defaults, a read-write check of `token`, a generated key: the answers and the key.
async fn answers_through_the_wizard(
    engine: &Engine,
    sub: &str,
    token: &str,
) -> (WizardAnswers, AdminKeyInfo) {
    let mut a = answers_without_credentials(engine, sub).await;
    let check = engine
        .token_check(TokenArgs { token: token.into() })
        .await
        .unwrap();
    assert_eq!(check.scope, TokenScope::ReadWrite, "{check:?}");
    a.credentials.token_validated = true;
    let key = engine
        .ssh_generate(FqdnArgs {
            fqdn: format!("{sub}.omani.works"),
        })
        .await
        .unwrap();
    a.credentials.ssh_public_key = key.public_openssh.clone();
    a.credentials.ssh_fingerprint = key.fingerprint.clone();
    (a, key)
}

pub async fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..secs * 10 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A token no one else will ever use, shaped like Hetzner's (64 letters and
/// digits, which the app checks before any call), for canary tests: found in
/// a file, a log or an event, it can only have come from the app.
pub fn canary_token(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let t = format!("hcloud{tag}CANARY{nanos:x}{:x}", std::process::id());
    format!("{t:X<64}").chars().take(64).collect()
}

/// `wait_for` on a plain thread (tests that drive the binary, no runtime).
pub fn wait_for_blocking<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..secs * 50 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// The record as on disk; "running" while it cannot be read yet.
pub fn engine_record(paths: &Paths, id: &str) -> Value {
    let p = paths.data_dir.join("deployments").join(id).join("record.json");
    std::fs::read(&p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"status": "running"}))
}

pub async fn wait_end(paths: &Paths, id: &str, secs: u64) -> Value {
    wait_for("the run to end", secs, || {
        let r = engine_record(paths, id);
        match r["status"].as_str() {
            Some("running") => None,
            _ => Some(r),
        }
    })
    .await
}

/// Every event of the run, from the start.
pub async fn events(engine: &Engine, id: &str) -> Vec<ProvisionEvent> {
    events_since(engine, id, 0).await
}

/// The run's events after `since_seq`.
pub async fn events_since(engine: &Engine, id: &str, since_seq: u64) -> Vec<ProvisionEvent> {
    engine
        .deployment_events(EventsArgs {
            id: id.to_owned(),
            since_seq,
        })
        .await
        .unwrap()
}

/// The deployment's record, as the engine gives it.
pub async fn record(engine: &Engine, id: &str) -> DeploymentRecord {
    engine.deployment_get(IdArgs { id: id.to_owned() }).await.unwrap()
}

/// Files under `dir` whose bytes contain `needle` (a secret that must not be there).
pub fn grep_dir(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            hits.extend(grep_dir(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p)
            && String::from_utf8_lossy(&bytes).contains(needle)
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

/// The app binary cargo built for this workspace (`target/<profile>/`, next
/// to the test's own `deps/` dir), or CATALYST_BIN when set.
pub fn app_binary() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("CATALYST_BIN") {
        return p.into();
    }
    target_binary("catalyst-provisioner")
}

/// A binary of the target dir this test runs from (a test binary runs from
/// `deps/`, a bin such as live-rig from the target dir itself).
pub fn target_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap();
    if dir.ends_with("deps") {
        dir = dir.parent().unwrap();
    }
    dir.join(name)
}

/// The command the test control plane runs for `kubectl apply -f -`: the
/// stand-in (tests/fakes/kubectl) applying to the fake Kubernetes API.
pub fn kubectl_standin(kube: &crate::fakes::kube::FakeKube) -> String {
    format!(
        "{} --server {} --token {}",
        target_binary("kubectl-standin").display(),
        kube.url(),
        crate::fakes::kube::TOKEN
    )
}

/// Valid answers for demo mode with subdomain `sub`, built through the engine
/// as the wizard does (defaults, the demo token, a generated key).
pub async fn demo_answers(engine: &Engine, sub: &str) -> WizardAnswers {
    answers_through_the_wizard(engine, sub, "demo").await.0
}
