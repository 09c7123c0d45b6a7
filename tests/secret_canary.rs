//! Issue 4: "A canary secret stored through `SecretStore` and used in a token
//! check never appears in the log file, the data dir, or any event." Here
//! through the engine's own API in live mode, against the fake Hetzner API:
//! the wizard's token check (accepted, unknown, and refused by the API), then
//! a run that uses the stored token in its preflight and fails there (at the
//! admin key, after the token check), so the
//! event bus and the run's files have something to carry.

use std::time::Duration;

use catalyst_provisioner::engine::Paths;
use catalyst_provisioner::engine::credentials::{FqdnArgs, TokenArgs};
use catalyst_provisioner::engine::events::ProvisionEvent;
use catalyst_provisioner::engine::hetzner::TokenScope;
use catalyst_provisioner::engine::provision::StartArgs;
use catalyst_provisioner::engine::secrets::{SecretStore, names};
use catalyst_provisioner::engine::store::deployments::RunStatus;
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, Fault, FaultKind, TokenKind};
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig};
use catalyst_tests::support::{events, grep_dir, live_engine, record, wait_end};
use serde_json::json;
use tokio::sync::broadcast::error::TryRecvError;

fn canary(tag: &str) -> String {
    catalyst_tests::support::canary_token(tag)
}

/// An answer as it crosses the API to the UI: the text a canary must not be in.
fn wire(answer: &impl serde::Serialize) -> String {
    serde_json::to_string(answer).unwrap()
}

fn token(t: &str) -> TokenArgs {
    TokenArgs { token: t.into() }
}

#[tokio::test]
async fn a_canary_token_checked_through_the_engine_reaches_no_event_no_file_and_no_log() {
    let good = canary("RW");
    let unknown = canary("UNKNOWN");
    let hetzner = FakeHetzner::start(FakeConfig {
        tokens: vec![(good.clone(), TokenKind::ReadWrite)],
        ..FakeConfig::default()
    })
    .await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    // The app's own subscriber, writing its JSON file into the engine's log dir.
    // The test runtime is single-threaded, so a thread default covers every task.
    let (sub, guard) = catalyst_provisioner::logging::subscriber(&paths.log_dir, false).unwrap();
    let dispatch = tracing::subscriber::set_default(sub);
    let settings = json!({
        "mode": "live",
        "hetzner_endpoint": hetzner.base_url(),
        "pdm": {"url": pdm.base_url(), "username": pdm.username(), "password_secret": "pdm-password"},
    });
    let (secrets, engine) = live_engine(&paths, &settings, &pdm);
    let mut bus = engine.events().subscribe();
    let mut texts: Vec<(String, String)> = Vec::new();

    // Success: the canary is the only token the fake accepts, and it is kept.
    let ok = engine.token_check(token(&good)).await.unwrap();
    assert_eq!(ok.scope, TokenScope::ReadWrite, "{ok:?}");
    assert_eq!(
        secrets.get(&names::hetzner_token("draft")).unwrap().as_deref(),
        Some(good.as_str()),
        "the token check stores the canary through the SecretStore"
    );
    texts.push(("token check answer".into(), wire(&ok)));

    // Failure: a token Hetzner does not know.
    let bad = engine.token_check(token(&unknown)).await.unwrap();
    assert_eq!(bad.scope, TokenScope::Invalid, "{bad:?}");
    texts.push(("invalid token answer".into(), wire(&bad)));

    // Failure: the API refuses the call; the error crosses the API.
    hetzner.inject(Fault::new(
        None,
        "/",
        50,
        FaultKind::Error {
            status: 400,
            code: "invalid_input".into(),
            message: "invalid input".into(),
        },
    ));
    let err = engine.token_check(token(&good)).await.unwrap_err();
    hetzner.clear_faults();
    texts.push(("token check error".into(), wire(&err)));

    // A run uses the stored canary in its preflight token check (step 1) and
    // fails later in preflight, at the admin key (step 3): the answers carry a
    // key generated before the one now in the keyring. (A taken subdomain no
    // longer gets that far: provision_start asks PDM first.)
    let mut a = engine.wizard_defaults().await.unwrap();
    a.organisation.name = "Omantel".into();
    a.domain.subdomain = "canary".into();
    a.domain.admin_email = "platform@omantel.om".into();
    a.credentials.token_validated = true;
    let generate = || FqdnArgs {
        fqdn: "canary.omani.works".into(),
    };
    let key = engine.ssh_generate(generate()).await.unwrap();
    a.credentials.ssh_public_key = key.public_openssh;
    a.credentials.ssh_fingerprint = key.fingerprint;
    engine.ssh_generate(generate()).await.unwrap();
    let started = engine
        .provision_start(StartArgs {
            answers: a,
            scenario: None,
            speed: None,
        })
        .await
        .unwrap();
    let id = started.id;
    wait_end(&paths, &id, 60).await;
    let rec = record(&engine, &id).await;
    assert_eq!(rec.status, RunStatus::Failed, "{rec:?}");
    let failure = rec.failure.as_ref().expect("a failed run says why");
    assert!(failure.error.contains("is not the one in the answers"), "{rec:?}");
    let before = hetzner.count("GET", "/locations");
    assert!(before >= 3, "the run's preflight asked Hetzner with the canary");

    // Every event: what the bus carried and what the API reads back.
    let mut seen: Vec<ProvisionEvent> = Vec::new();
    loop {
        match bus.try_recv() {
            Ok(e) => seen.push(e),
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            Err(TryRecvError::Lagged(n)) => panic!("lost {n} events"),
        }
    }
    assert!(
        seen.iter()
            .any(|e| serde_json::to_string(&e.kind).unwrap().contains("phase_failed")),
        "the run's failure went over the bus: {seen:?}"
    );
    let stored = events(&engine, &id).await;
    assert_eq!(stored.len(), seen.len(), "bus and event log agree");
    for e in seen.iter().chain(stored.iter()) {
        texts.push((format!("event {}", e.seq), serde_json::to_string(e).unwrap()));
    }
    texts.push(("events answer".into(), wire(&stored)));

    drop(engine);
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(dispatch);
    drop(guard);

    for (what, text) in &texts {
        for c in [&good, &unknown] {
            assert!(!text.contains(c.as_str()), "canary in {what}: {text}");
        }
    }
    for c in [&good, &unknown] {
        assert_eq!(grep_dir(home.path(), c), Vec::<String>::new(), "canary on disk");
    }
    // The places looked at are not empty: the run wrote its files and the
    // log file has the token checks and the run in it.
    assert!(
        paths
            .data_dir
            .join("deployments")
            .join(&id)
            .join("events.jsonl")
            .is_file()
    );
    let mut log = String::new();
    for e in std::fs::read_dir(&paths.log_dir).unwrap() {
        log.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    assert!(log.contains("Hetzner token check done"), "{log}");
    hetzner.shutdown().await;
    pdm.shutdown().await;
}
