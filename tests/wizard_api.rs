//! The wizard's calls to the outside world, through the engine's API as the
//! window and the bridge make them: live mode against the fake Hetzner API
//! and the fake PDM (selected by settings only), and demo mode offline.

use std::sync::Arc;

use catalyst_provisioner::api::{Call, dispatch};
use catalyst_provisioner::engine::secrets::{MemoryStore, SecretStore, names};
use catalyst_provisioner::engine::{Engine, Paths};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, RO_TOKEN, RW_TOKEN};
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig};
use serde_json::{Value, json};

struct Live {
    _dir: tempfile::TempDir,
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
    let engine = Engine::with_secrets(paths, false, store.clone());
    Live {
        _dir: dir,
        engine,
        store,
        hetzner,
        pdm,
    }
}

async fn call(engine: &Engine, v: Value) -> Result<Value, catalyst_provisioner::engine::ApiError> {
    dispatch(engine, serde_json::from_value::<Call>(v).unwrap()).await
}

#[tokio::test]
async fn a_read_write_token_goes_to_the_keyring_and_brings_live_prices() {
    let l = live().await;
    let before = call(&l.engine, json!({"cmd": "server_offers"})).await.unwrap();
    assert_eq!(before["source"]["kind"], "snapshot");

    let ro = call(
        &l.engine,
        json!({"cmd": "token_check", "args": {"token": RO_TOKEN}}),
    )
    .await
    .unwrap();
    assert_eq!(ro["scope"], "read_only");
    assert_eq!(
        l.store.get(&names::hetzner_token("draft")).unwrap(),
        None,
        "a read-only token is not kept"
    );

    let bad = call(
        &l.engine,
        json!({"cmd": "token_check", "args": {"token": "not-a-token-at-all"}}),
    )
    .await
    .unwrap();
    assert_eq!(bad["scope"], "invalid");

    let rw = call(
        &l.engine,
        json!({"cmd": "token_check", "args": {"token": RW_TOKEN}}),
    )
    .await
    .unwrap();
    assert_eq!(rw["scope"], "read_write", "{rw}");
    assert_eq!(
        l.store.get(&names::hetzner_token("draft")).unwrap().as_deref(),
        Some(RW_TOKEN)
    );
    let after = call(&l.engine, json!({"cmd": "server_offers"})).await.unwrap();
    assert_eq!(after["source"]["kind"], "live");
    let types: Vec<&str> = after["server_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"cpx42"), "{types:?}");
    // Validation now judges against what Hetzner sells: cx43 is not sold in ash.
    let mut answers = call(&l.engine, json!({"cmd": "wizard_defaults"})).await.unwrap();
    answers["regions"][0]["location"] = json!("ash");
    answers["regions"][0]["control_plane_type"] = json!("cx43");
    let errs = call(
        &l.engine,
        json!({"cmd": "wizard_validate", "args": {"step": "provider", "answers": answers}}),
    )
    .await
    .unwrap();
    assert_eq!(
        errs[0]["message"],
        "cx43 cannot be ordered in ash; choose another type or location."
    );
    l.hetzner.shutdown().await;
}

#[tokio::test]
async fn pool_subdomains_are_checked_with_pdm_and_taken_names_say_so() {
    let l = live().await;
    let free = call(
        &l.engine,
        json!({"cmd": "domain_check", "args": {"pool": "omani.works", "subdomain": "omantel-prod"}}),
    )
    .await
    .unwrap();
    assert_eq!(free["available"], true, "{free}");
    // Someone else reserves the name: the check now says so with its own sentence.
    let other =
        catalyst_provisioner::engine::pdm::PdmClient::new(catalyst_provisioner::engine::pdm::PdmConfig::new(
            l.pdm.base_url(),
            l.pdm.username(),
            l.pdm.password(),
        ))
        .unwrap();
    other.reserve("omani.works", "omantel-prod").await.unwrap();
    let held = call(
        &l.engine,
        json!({"cmd": "domain_check", "args": {"pool": "omani.works", "subdomain": "omantel-prod"}}),
    )
    .await
    .unwrap();
    assert_eq!(held["available"], false);
    assert_eq!(held["reason"], "reserved-state");
    // A pool the settings do not offer is refused before PDM is asked.
    let err = call(
        &l.engine,
        json!({"cmd": "domain_check", "args": {"pool": "evil.com", "subdomain": "x"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("domain.pool_domain"));
}

#[tokio::test]
async fn an_unreachable_pdm_is_a_clear_error_not_a_hang() {
    let l = live().await;
    l.pdm.shutdown().await;
    let started = std::time::Instant::now();
    let err = call(
        &l.engine,
        json!({"cmd": "domain_check", "args": {"pool": "omani.works", "subdomain": "omantel"}}),
    )
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
    let info = call(
        &l.engine,
        json!({"cmd": "ssh_generate", "args": {"fqdn": "omantel.omani.works"}}),
    )
    .await
    .unwrap();
    assert!(
        info["public_openssh"]
            .as_str()
            .unwrap()
            .ends_with(" catalyst@omantel.omani.works")
    );
    let private = l.store.get(&names::admin_private_key("draft")).unwrap().unwrap();
    assert!(private.contains("OPENSSH PRIVATE KEY"));
    let out = call(
        &l.engine,
        json!({"cmd": "ssh_export", "args": {"fqdn": "omantel.omani.works"}}),
    )
    .await
    .unwrap();
    let path = std::path::PathBuf::from(out["path"].as_str().unwrap());
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
    let parsed = call(
        &l.engine,
        json!({"cmd": "ssh_parse", "args": {"text": info["public_openssh"]}}),
    )
    .await
    .unwrap();
    assert_eq!(parsed["fingerprint"], info["fingerprint"]);
    let err = call(&l.engine, json!({"cmd": "ssh_parse", "args": {"text": private}}))
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("credentials.ssh_public_key"));
}

#[tokio::test]
async fn registrar_credentials_are_checked_locally_then_by_pdm_and_kept_in_the_keyring() {
    let l = live().await;
    let bad = call(&l.engine, json!({"cmd": "registrar_validate", "args": {"registrar": "ovh", "domain": "acme.com", "credential": "onlyonepart"}}))
        .await
        .unwrap_err();
    assert_eq!(bad.field.as_deref(), Some("domain.registrar_credential"));
    let good = "appkey123:appsecret456:consumerkey789";
    let ok = call(&l.engine, json!({"cmd": "registrar_validate", "args": {"registrar": "ovh", "domain": "acme.com", "credential": good}}))
        .await
        .unwrap();
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(l.store.get("registrar/draft").unwrap().as_deref(), Some(good));
}

#[tokio::test]
async fn demo_mode_answers_every_wizard_call_without_network_or_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let ro = call(
        &engine,
        json!({"cmd": "token_check", "args": {"token": "demo-readonly"}}),
    )
    .await
    .unwrap();
    assert_eq!(ro["scope"], "read_only");
    let rw = call(
        &engine,
        json!({"cmd": "token_check", "args": {"token": "anything"}}),
    )
    .await
    .unwrap();
    assert_eq!(rw["scope"], "read_write");
    let taken = call(
        &engine,
        json!({"cmd": "domain_check", "args": {"pool": "omani.works", "subdomain": "acme"}}),
    )
    .await
    .unwrap();
    assert_eq!(taken["available"], false);
    let free = call(
        &engine,
        json!({"cmd": "domain_check", "args": {"pool": "omani.works", "subdomain": "omantel-prod"}}),
    )
    .await
    .unwrap();
    assert_eq!(free["available"], true);
    assert!(
        call(&engine, json!({"cmd": "ssh_generate", "args": {"fqdn": ""}}))
            .await
            .is_ok()
    );
    let ok = call(&engine, json!({"cmd": "registrar_validate", "args": {"registrar": "godaddy", "domain": "acme.com", "credential": "key:secret"}})).await.unwrap();
    assert_eq!(ok["valid"], true);
}
