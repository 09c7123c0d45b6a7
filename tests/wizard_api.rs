//! The wizard's calls to the outside world, on the engine the window and
//! the bridge call: live mode against the fake Hetzner API and the fake PDM
//! (selected by settings only), and demo mode offline.

use std::sync::Arc;

use catalyst_provisioner::engine::catalog::OfferSource;
use catalyst_provisioner::engine::credentials::{FqdnArgs, SshParseArgs, TokenArgs, TokenCheckView};
use catalyst_provisioner::engine::domain::{DomainCheckArgs, RegistrarArgs};
use catalyst_provisioner::engine::hetzner::TokenScope;
use catalyst_provisioner::engine::pdm::{Availability, CheckReason, RegistrarKind};
use catalyst_provisioner::engine::secrets::{MemoryStore, SecretStore, names};
use catalyst_provisioner::engine::wizard::Step;
use catalyst_provisioner::engine::{ApiError, Engine, Paths, ValidateArgs};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, RO_TOKEN, RW_TOKEN};
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig};
use serde_json::json;

struct Live {
    _dir: tempfile::TempDir,
    paths: Paths,
    engine: Engine,
    store: Arc<MemoryStore>,
    hetzner: FakeHetzner,
    pdm: FakePdm,
}

async fn live() -> Live {
    let dir = tempfile::tempdir().unwrap();
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let paths = Paths::under(dir.path());
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    let settings = json!({
        "mode": "live",
        "hetzner_endpoint": hetzner.base_url(),
        "pdm": {"url": pdm.base_url(), "username": pdm.username(), "password_secret": "pdm-password"},
    });
    std::fs::write(paths.config_dir.join("settings.json"), settings.to_string()).unwrap();
    let store = Arc::new(MemoryStore::new());
    store.set("pdm-password", &pdm.password()).unwrap();
    let engine = Engine::with_secrets(paths.clone(), false, store.clone());
    Live {
        _dir: dir,
        paths,
        engine,
        store,
        hetzner,
        pdm,
    }
}

async fn token_check(engine: &Engine, token: &str) -> TokenCheckView {
    engine
        .token_check(TokenArgs { token: token.into() })
        .await
        .unwrap()
}

async fn domain_check(engine: &Engine, pool: &str, subdomain: &str) -> Result<Availability, ApiError> {
    engine
        .domain_check(DomainCheckArgs {
            pool: pool.into(),
            subdomain: subdomain.into(),
        })
        .await
}

async fn registrar_validate(
    engine: &Engine,
    registrar: RegistrarKind,
    credential: &str,
) -> Result<catalyst_provisioner::engine::pdm::RegistrarValidation, ApiError> {
    engine
        .registrar_validate(RegistrarArgs {
            registrar,
            domain: "acme.com".into(),
            credential: credential.into(),
        })
        .await
}

fn fqdn(f: &str) -> FqdnArgs {
    FqdnArgs { fqdn: f.into() }
}

#[tokio::test]
async fn a_read_write_token_goes_to_the_keyring_and_brings_live_prices() {
    let l = live().await;
    let before = l.engine.server_offers().await.unwrap();
    assert!(
        matches!(before.source, OfferSource::Snapshot { .. }),
        "{:?}",
        before.source
    );

    let ro = token_check(&l.engine, RO_TOKEN).await;
    assert_eq!(ro.scope, TokenScope::ReadOnly);
    assert_eq!(
        l.store.get(&names::hetzner_token("draft")).unwrap(),
        None,
        "a read-only token is not kept"
    );

    let bad = token_check(&l.engine, "not-a-token-at-all").await;
    assert_eq!(bad.scope, TokenScope::Invalid);

    let rw = token_check(&l.engine, RW_TOKEN).await;
    assert_eq!(rw.scope, TokenScope::ReadWrite, "{rw:?}");
    assert_eq!(
        l.store.get(&names::hetzner_token("draft")).unwrap().as_deref(),
        Some(RW_TOKEN)
    );
    let after = l.engine.server_offers().await.unwrap();
    assert!(
        matches!(after.source, OfferSource::Live { .. }),
        "{:?}",
        after.source
    );
    let types: Vec<&str> = after.server_types.iter().map(|t| t.name.as_str()).collect();
    assert!(types.contains(&"cpx42"), "{types:?}");
    // Validation now judges against what Hetzner sells: cx43 is not sold in ash.
    let mut answers = l.engine.wizard_defaults().await.unwrap();
    answers.regions[0].location = "ash".into();
    answers.regions[0].control_plane_type = "cx43".into();
    let errs = l
        .engine
        .wizard_validate(ValidateArgs {
            step: Step::Provider,
            answers,
        })
        .await
        .unwrap();
    assert_eq!(
        errs[0].message,
        "cx43 cannot be ordered in ash; choose another type or location."
    );
    l.hetzner.shutdown().await;
}

#[tokio::test]
async fn pool_subdomains_are_checked_with_pdm_and_taken_names_say_so() {
    let l = live().await;
    let free = domain_check(&l.engine, "omani.works", "omantel-prod")
        .await
        .unwrap();
    assert!(free.available, "{free:?}");
    // Someone else reserves the name: the check now says so with its own sentence.
    let other =
        catalyst_provisioner::engine::pdm::PdmClient::new(catalyst_provisioner::engine::pdm::PdmConfig::new(
            l.pdm.base_url(),
            l.pdm.username(),
            l.pdm.password(),
        ))
        .unwrap();
    other.reserve("omani.works", "omantel-prod").await.unwrap();
    let held = domain_check(&l.engine, "omani.works", "omantel-prod")
        .await
        .unwrap();
    assert!(!held.available);
    assert_eq!(held.reason, Some(CheckReason::ReservedState));
    // The reason's name on the wire is PDM's own spelling.
    assert_eq!(json!(held.reason), json!("reserved-state"));
    // A pool the settings do not offer is refused before PDM is asked.
    let err = domain_check(&l.engine, "evil.com", "x").await.unwrap_err();
    assert_eq!(err.field.as_deref(), Some("domain.pool_domain"));
}

#[tokio::test]
async fn an_unreachable_pdm_is_a_clear_error_not_a_hang() {
    let l = live().await;
    l.pdm.shutdown().await;
    let started = std::time::Instant::now();
    let err = domain_check(&l.engine, "omani.works", "omantel")
        .await
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
    assert!(
        err.message.contains("Cannot reach the pool-domain-manager"),
        "{err:?}"
    );
}

#[tokio::test]
async fn generated_keys_stay_in_the_keyring_until_exported_with_mode_0600() {
    let l = live().await;
    let info = l.engine.ssh_generate(fqdn("omantel.omani.works")).await.unwrap();
    assert!(
        info.public_openssh.ends_with(" catalyst@omantel.omani.works"),
        "{}",
        info.public_openssh
    );
    let private = l.store.get(&names::admin_private_key("draft")).unwrap().unwrap();
    assert!(private.contains("OPENSSH PRIVATE KEY"));
    let out = l.engine.ssh_export(fqdn("omantel.omani.works")).await.unwrap();
    let path = std::path::PathBuf::from(out.path.expect("written without a dialog"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), private);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A pasted key is parsed by the same rules as the step's validation.
    let parsed = l
        .engine
        .ssh_parse(SshParseArgs {
            text: info.public_openssh.clone(),
        })
        .await
        .unwrap();
    assert_eq!(parsed.fingerprint, info.fingerprint);
    let err = l
        .engine
        .ssh_parse(SshParseArgs { text: private })
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("credentials.ssh_public_key"));
}

#[tokio::test]
async fn registrar_credentials_are_checked_locally_then_by_pdm_and_kept_in_the_keyring() {
    let l = live().await;
    let bad = registrar_validate(&l.engine, RegistrarKind::Ovh, "onlyonepart")
        .await
        .unwrap_err();
    assert_eq!(bad.field.as_deref(), Some("domain.registrar_credential"));
    let good = "appkey123:appsecret456:consumerkey789";
    let ok = registrar_validate(&l.engine, RegistrarKind::Ovh, good)
        .await
        .unwrap();
    assert!(ok.valid, "{ok:?}");
    assert_eq!(l.store.get("registrar/draft").unwrap().as_deref(), Some(good));
}

#[tokio::test]
async fn demo_mode_answers_every_wizard_call_without_network_or_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let ro = token_check(&engine, "demo-readonly").await;
    assert_eq!(ro.scope, TokenScope::ReadOnly);
    let rw = token_check(&engine, "anything").await;
    assert_eq!(rw.scope, TokenScope::ReadWrite);
    let taken = domain_check(&engine, "omani.works", "acme").await.unwrap();
    assert!(!taken.available);
    let free = domain_check(&engine, "omani.works", "omantel-prod")
        .await
        .unwrap();
    assert!(free.available);
    assert!(engine.ssh_generate(fqdn("")).await.is_ok());
    let ok = registrar_validate(&engine, RegistrarKind::Godaddy, "key:secret")
        .await
        .unwrap();
    assert!(ok.valid);
}

#[tokio::test]
async fn demo_review_shows_the_simulated_clouds_resources_by_type_with_their_cost() {
    use catalyst_provisioner::engine::provision::plan_preview::PlanArgs;
    let home = tempfile::tempdir().unwrap();
    // Its settings' secrets in memory, not this machine's keyring.
    let store: std::sync::Arc<dyn catalyst_provisioner::engine::secrets::SecretStore> =
        std::sync::Arc::new(catalyst_provisioner::engine::secrets::MemoryStore::new());
    let engine = Engine::with_secrets(Paths::under(home.path()), true, store);
    let mut a = catalyst_tests::support::demo_answers(&engine, "plan-demo").await;
    a.ha = true;
    a.regions[0].worker_count = 2;
    a.regions[0].worker_type = a.regions[0].control_plane_type.clone();
    let p = engine
        .plan_preview(PlanArgs { answers: a.clone() })
        .await
        .unwrap();
    assert!(p.simulated);
    let count = |t: &str| p.resources.iter().find(|r| r.resource_type == t).map(|r| r.count);
    assert_eq!(
        count("hcloud_server"),
        Some(5),
        "3 control planes and 2 workers: {p:?}"
    );
    assert_eq!(count("hcloud_load_balancer"), Some(1));
    assert_eq!(p.add, p.resources.iter().map(|r| r.count).sum::<u64>());
    let est = engine.wizard_estimate(a.clone()).await.unwrap();
    assert_eq!((p.hourly_eur, p.monthly_eur), (est.hourly_eur, est.monthly_eur));
    // Review says which Let's Encrypt the Sovereign's certificates come from.
    use catalyst_provisioner::engine::settings::Certificates;
    assert_eq!(p.certificates, Certificates::Production);
    let mut values = engine.settings_get().await.unwrap().values;
    values.certificates = Some(Certificates::Staging);
    let saved = engine
        .settings_save(catalyst_provisioner::engine::settings::api::SettingsSaveArgs {
            values,
            set_secrets: vec![],
            clear_secrets: vec![],
        })
        .await
        .unwrap();
    assert!(saved.saved, "{:?}", saved.errors);
    let p = engine
        .plan_preview(PlanArgs { answers: a.clone() })
        .await
        .unwrap();
    assert_eq!(p.certificates, Certificates::Staging);
    // Answers that would not pass Review are refused with their field.
    a.domain.admin_email = "nope".into();
    let e = engine.plan_preview(PlanArgs { answers: a }).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("domain.admin_email"), "{e:?}");
}

#[tokio::test]
async fn a_draft_checked_in_demo_mode_must_be_checked_again_in_live_mode() {
    let l = live().await;
    // The same home in demo mode (--demo): a walk through the credentials.
    let demo = Engine::new(l.paths.clone(), true);
    let a = catalyst_tests::support::demo_answers(&demo, "modes").await;
    assert!(a.credentials.token_validated && !a.credentials.ssh_public_key.is_empty());
    demo.draft_save(a.clone()).await.unwrap();
    // Demo reads it back as it was.
    let back = demo.draft_load().await.unwrap().unwrap();
    assert_eq!(back.answers, a);
    assert!(back.recheck.is_empty() && back.note.is_none());
    // Live mode undoes the demo's checks and says which to make again.
    let d = l.engine.draft_load().await.unwrap().unwrap();
    assert!(!d.answers.credentials.token_validated);
    assert!(d.answers.credentials.ssh_public_key.is_empty());
    assert!(d.answers.domain.availability.is_none());
    assert_eq!(
        d.answers.organisation, a.organisation,
        "the rest of the walk is kept"
    );
    let note = d.note.unwrap();
    assert!(
        note.contains("made in demo mode, so in live mode: validate the Hetzner token"),
        "{note}"
    );
    let errs = l
        .engine
        .wizard_validate(ValidateArgs {
            step: Step::Credentials,
            answers: d.answers,
        })
        .await
        .unwrap();
    assert!(errs.iter().any(|e| e.field == "credentials.token"), "{errs:?}");
}

/// Review in live mode asks the operator's SSH agent about a pasted key:
/// without it there, Review and Provision refuse next to the key's field
/// before anything is created; with the real ssh-agent holding it they pass.
#[tokio::test]
async fn a_pasted_key_no_agent_holds_is_refused_at_review_and_at_provision() {
    use catalyst_provisioner::engine::keys::generate_admin_key;
    use catalyst_provisioner::engine::provision::StartArgs;
    use catalyst_provisioner::engine::wizard::model::SshKeyMode;
    use catalyst_tests::ssh_agent::SshAgent;

    let l = live().await;
    let agent = SshAgent::start();
    // The agent this engine asks is the one in its overrides (not the test's environment).
    std::fs::write(
        l.paths.config_dir.join("overrides.json"),
        json!({"ssh_agent_socket": agent.socket()}).to_string(),
    )
    .unwrap();
    let engine = Engine::with_secrets(l.paths.clone(), false, l.store.clone());
    let demo = Engine::new(l.paths.clone(), true);
    let mut a = catalyst_tests::support::demo_answers(&demo, "pasted").await;
    let operator = generate_admin_key("operator.laptop").unwrap();
    a.credentials.ssh_key_mode = SshKeyMode::Paste;
    a.credentials.ssh_public_key = operator.public_openssh().to_owned();
    a.credentials.ssh_fingerprint = operator.fingerprint().to_owned();
    let text = SshParseArgs {
        text: a.credentials.ssh_public_key.clone(),
    };

    let check = engine.ssh_agent_check(text.clone()).await.unwrap();
    assert!(
        !check.held() && check.message.contains("does not hold this key"),
        "{check:?}"
    );
    let review = |answers| {
        let engine = &engine;
        async move {
            engine
                .wizard_validate(ValidateArgs {
                    step: Step::Review,
                    answers,
                })
                .await
                .unwrap()
        }
    };
    let errs = review(a.clone()).await;
    let e = errs
        .iter()
        .find(|e| e.field == "credentials.ssh_public_key")
        .expect("refused at the key");
    assert!(
        e.message
            .starts_with("A live run with a pasted key needs your SSH agent to hold it."),
        "{}",
        e.message
    );
    let started = engine
        .provision_start(StartArgs {
            answers: a.clone(),
            scenario: None,
            speed: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        started.field.as_deref(),
        Some("credentials.ssh_public_key"),
        "{started:?}"
    );
    assert!(
        engine.deployments_list().await.unwrap().is_empty(),
        "no deployment was made"
    );
    assert_eq!(l.hetzner.inventory().total(), 0);

    agent.add(&operator.private_openssh().unwrap());
    assert!(engine.ssh_agent_check(text).await.unwrap().held());
    let errs = review(a.clone()).await;
    assert!(
        !errs.iter().any(|e| e.field == "credentials.ssh_public_key"),
        "{errs:?}"
    );
    // Demo mode never logs in: no agent is asked.
    let errs = demo
        .wizard_validate(ValidateArgs {
            step: Step::Review,
            answers: a,
        })
        .await
        .unwrap();
    assert!(
        !errs.iter().any(|e| e.field == "credentials.ssh_public_key"),
        "{errs:?}"
    );
}
