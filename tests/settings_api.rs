//! The settings commands every adapter calls: field errors, secrets only in
//! the keyring (never the config file, never the answer), and the franchise
//! profile's preview and apply.

use std::path::Path;
use std::sync::Arc;

use catalyst_provisioner::api::Call;
use catalyst_provisioner::engine::secrets::{MemoryStore, SecretStore, names};
use catalyst_provisioner::engine::settings::api::{PathArgs, SecretState, SecretValue, SettingsSaveArgs};
use catalyst_provisioner::engine::settings::values::{SecretKey, SettingsValues};
use catalyst_provisioner::engine::settings::{Mode, PhaseTimeouts};
use catalyst_provisioner::engine::{Engine, ErrorCode, Paths};
use serde_json::{Value, json};

/// An answer as it travels to the UI: what must never hold a secret.
fn wire(answer: &impl serde::Serialize) -> String {
    serde_json::to_string(answer).unwrap()
}

fn save_args(values: SettingsValues) -> SettingsSaveArgs {
    SettingsSaveArgs {
        values,
        set_secrets: Vec::new(),
        clear_secrets: Vec::new(),
    }
}

fn path_args(p: &Path) -> PathArgs {
    PathArgs {
        path: p.display().to_string(),
    }
}

fn engine(home: &Path) -> (Arc<MemoryStore>, Engine) {
    let store = Arc::new(MemoryStore::new());
    let dyn_store: Arc<dyn SecretStore> = store.clone();
    (store, Engine::with_secrets(Paths::under(home), false, dyn_store))
}

fn config_text(home: &Path) -> String {
    std::fs::read_to_string(home.join("config").join("settings.json")).unwrap_or_default()
}

const EXAMPLE: &str = include_str!("../examples/franchise-profile.json");

#[tokio::test]
async fn save_keeps_secrets_in_the_keyring_and_shows_them_as_set() {
    let home = tempfile::tempdir().unwrap();
    let (store, engine) = engine(home.path());
    let view = engine.settings_get().await.unwrap();
    assert_eq!(view.secrets.pdm_password, SecretState::NotSet);
    assert_eq!(view.defaults.timeouts.tofu_apply, Some(1800));

    let mut values = view.values.clone();
    values.pdm_url = "https://pdm.example.org".into();
    values.pdm_username = "franchise".into();
    values.registry_mirror_url = "https://harbor.example.org".into();
    values.registry_mirror_username = "robot".into();
    values.gitops_branch = "stable".into();
    values.timeouts.cloud_init = Some(900);
    let saved = engine
        .settings_save(SettingsSaveArgs {
            values,
            set_secrets: vec![
                SecretValue {
                    key: SecretKey::PdmPassword,
                    value: "PdmCanary-7f3a".into(),
                },
                SecretValue {
                    key: SecretKey::RegistryMirrorPassword,
                    value: "MirrorCanary-91be".into(),
                },
            ],
            clear_secrets: Vec::new(),
        })
        .await
        .unwrap();
    assert!(saved.saved, "{saved:?}");
    assert_eq!(saved.settings.secrets.pdm_password, SecretState::Set);
    assert_eq!(saved.settings.secrets.registry_mirror_password, SecretState::Set);
    assert_eq!(saved.settings.secrets.pull_password, SecretState::NotSet);
    assert_eq!(saved.settings.values.timeouts.cloud_init, Some(900));
    assert_eq!(
        store.get(&names::pdm_password()).unwrap().as_deref(),
        Some("PdmCanary-7f3a")
    );
    assert_eq!(
        store.get(&names::registry_mirror_password()).unwrap().as_deref(),
        Some("MirrorCanary-91be")
    );
    let file = config_text(home.path());
    assert!(
        file.contains("harbor.example.org") && file.contains("stable"),
        "{file}"
    );
    for canary in ["PdmCanary-7f3a", "MirrorCanary-91be"] {
        assert!(!file.contains(canary));
        assert!(!wire(&saved).contains(canary));
    }

    // A new engine over the same home reads what was saved.
    let (_, again) = engine_with(home.path(), store.clone());
    let view = again.settings_get().await.unwrap();
    assert_eq!(view.values.gitops_branch, "stable");
    assert_eq!(view.secrets.pdm_password, SecretState::Set);

    // Clearing a secret removes it from the keyring; the rest stays.
    let saved = engine
        .settings_save(SettingsSaveArgs {
            clear_secrets: vec![SecretKey::RegistryMirrorPassword],
            ..save_args(saved.settings.values)
        })
        .await
        .unwrap();
    assert!(saved.saved, "{saved:?}");
    assert_eq!(
        saved.settings.secrets.registry_mirror_password,
        SecretState::NotSet
    );
    assert_eq!(store.get(&names::registry_mirror_password()).unwrap(), None);
    assert!(store.get(&names::pdm_password()).unwrap().is_some());
}

fn engine_with(home: &Path, store: Arc<MemoryStore>) -> (Arc<MemoryStore>, Engine) {
    let dyn_store: Arc<dyn SecretStore> = store.clone();
    (store, Engine::with_secrets(Paths::under(home), false, dyn_store))
}

#[tokio::test]
async fn field_errors_come_back_together_and_nothing_is_written() {
    let home = tempfile::tempdir().unwrap();
    let (store, engine) = engine(home.path());
    let values = SettingsValues {
        pdm_url: "http://pdm.example.org".into(),
        tofu_path: home.path().join("no-tofu").display().to_string(),
        registry_mirror_project: "Proxy/DockerHub".into(),
        timeouts: PhaseTimeouts {
            tofu_apply: Some(0),
            ..PhaseTimeouts::default()
        },
        ..SettingsValues::default()
    };
    let out = engine
        .settings_save(SettingsSaveArgs {
            set_secrets: vec![SecretValue {
                key: SecretKey::PullPassword,
                value: "PullCanary-22".into(),
            }],
            ..save_args(values)
        })
        .await
        .unwrap();
    assert!(!out.saved);
    let fields: Vec<&str> = out.errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "pdm_url",
        "pdm_username",
        "tofu_path",
        "timeouts.tofu_apply",
        "pull_username",
        "registry_mirror_url",
        "registry_mirror_project",
    ] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    assert_eq!(config_text(home.path()), "");
    assert_eq!(store.get(&names::pull_password()).unwrap(), None);
    // An unknown field is refused by the command on the wire, not silently dropped.
    assert!(
        serde_json::from_value::<Call>(json!({"cmd": "settings_save", "args": {"values": {"pdm_ulr": "x"}}}))
            .is_err()
    );
}

#[tokio::test]
async fn a_profile_is_previewed_masked_then_applied_into_the_keyring() {
    let home = tempfile::tempdir().unwrap();
    let (store, engine) = engine(home.path());
    let path = home.path().join("franchise.json");
    std::fs::write(&path, EXAMPLE).unwrap();
    let secrets: Value = serde_json::from_str::<Value>(EXAMPLE).unwrap()["secrets"].clone();

    let preview = engine.profile_preview(path_args(&path)).await.unwrap();
    assert_eq!(preview.version, 2);
    assert_eq!(preview.errors, [], "{preview:?}");
    let keys: Vec<&str> = preview.changes.iter().map(|c| c.key.as_str()).collect();
    for k in [
        "mode",
        "pdm_url",
        "registry_mirror_url",
        "registry_mirror_project",
        "timeouts.tofu_apply",
    ] {
        assert!(keys.contains(&k), "{k} not in {keys:?}");
    }
    assert_eq!(preview.secrets.len(), 3);
    // Previewing changes nothing.
    assert_eq!(config_text(home.path()), "");
    assert_eq!(store.get(&names::pdm_password()).unwrap(), None);

    let applied = engine.profile_apply(path_args(&path)).await.unwrap();
    assert!(applied.saved, "{applied:?}");
    assert_eq!(
        store.get(&names::pdm_password()).unwrap().as_deref(),
        secrets["pdm_password"].as_str()
    );
    assert_eq!(
        store.get(&names::pull_password()).unwrap().as_deref(),
        secrets["pull_password"].as_str()
    );
    let file = config_text(home.path());
    assert!(file.contains("pdm.openova.io"), "{file}");
    for (_, v) in secrets.as_object().unwrap() {
        let v = v.as_str().unwrap();
        assert!(!file.contains(v), "a secret is in the config file");
        assert!(!wire(&preview).contains(v), "a secret is in the preview");
        assert!(!wire(&applied).contains(v), "a secret is in the answer");
    }
    // The saved mode takes effect at once: nothing was running.
    assert_eq!(applied.settings.values.mode, Some(Mode::Live));
    // The mirror's proxy project is kept with the mirror and shown again.
    assert_eq!(applied.settings.values.registry_mirror_project, "proxy-dockerhub");
    let saved: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(saved["registry_mirror"]["project"], "proxy-dockerhub", "{file}");
    assert_eq!(applied.settings.running_mode, Mode::Live);
    assert_eq!(applied.settings.mode_pending, None);
    assert_eq!(engine.mode(), Mode::Live);
    // Pools from the profile are what the wizard offers now.
    let options = engine.wizard_options().await.unwrap();
    assert_eq!(options.pool_domains, ["omani.works"]);
}

#[tokio::test]
async fn a_bad_profile_is_refused_with_its_reason() {
    let home = tempfile::tempdir().unwrap();
    let (store, engine) = engine(home.path());
    let path = home.path().join("p.json");
    let apply = |p: &Path| engine.profile_apply(path_args(p));

    std::fs::write(&path, EXAMPLE.replace("\"version\": 2", "\"version\": 7")).unwrap();
    let e = apply(&path).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ProfileUnknownVersion);
    assert!(e.message.contains("version 7"), "{e:?}");
    assert_eq!(e.field.as_deref(), Some("profile_path"));

    let e = apply(&home.path().join("missing.json")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ProfileUnreadable);

    // Valid JSON, but a field is wrong: nothing is applied, secrets included.
    std::fs::write(
        &path,
        EXAMPLE.replace("https://pdm.openova.io", "http://pdm.openova.io"),
    )
    .unwrap();
    let out = apply(&path).await.unwrap();
    assert!(!out.saved);
    assert_eq!(out.errors[0].field, "pdm_url");
    assert_eq!(store.get(&names::pdm_password()).unwrap(), None);
    assert_eq!(config_text(home.path()), "");
}

#[tokio::test]
async fn without_a_window_the_picker_says_to_type_the_path() {
    let home = tempfile::tempdir().unwrap();
    let (_, engine) = engine(home.path());
    let out = engine.profile_pick().await.unwrap();
    assert_eq!((out.path, out.dialog), (None, false));
}

/// Live mode's required fields, set (the password in the keyring).
fn live_values(mut values: SettingsValues) -> SettingsSaveArgs {
    values.mode = Some(Mode::Live);
    values.pdm_url = "https://pdm.example.org".into();
    values.pdm_username = "franchise".into();
    SettingsSaveArgs {
        values,
        set_secrets: vec![SecretValue {
            key: SecretKey::PdmPassword,
            value: "pdm-password-for-the-mode-test".into(),
        }],
        clear_secrets: Vec::new(),
    }
}

#[tokio::test]
async fn a_saved_mode_waits_for_a_run_says_why_then_takes_effect() {
    use catalyst_provisioner::engine::provision::{IdArgs, StartArgs};
    let home = tempfile::tempdir().unwrap();
    let (_store, engine) = engine(home.path());
    let mut changes = engine.mode_changes();
    assert_eq!(engine.mode(), Mode::Demo);
    // A slow demo run is going on: the saved mode waits, naming it.
    let answers = catalyst_tests::support::demo_answers(&engine, "mode-switch").await;
    let run = engine
        .provision_start(StartArgs {
            answers,
            scenario: None,
            speed: Some(1.0),
        })
        .await
        .unwrap();
    let values = engine.settings_get().await.unwrap().values;
    let out = engine.settings_save(live_values(values.clone())).await.unwrap();
    assert!(out.saved, "{:?}", out.errors);
    assert_eq!(out.settings.running_mode, Mode::Demo);
    let why = out.settings.mode_pending.expect("the reason it waits");
    assert!(why.contains(&run.id) && why.contains("save again"), "{why}");
    assert!(!changes.has_changed().unwrap());

    // Once it stopped, saving again switches: no restart.
    engine
        .provision_cancel(IdArgs { id: run.id.clone() })
        .await
        .unwrap();
    for _ in 0..100 {
        if engine.mode_blocker().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let out = engine.settings_save(live_values(values)).await.unwrap();
    assert!(out.saved, "{:?}", out.errors);
    assert_eq!(out.settings.running_mode, Mode::Live);
    assert_eq!(out.settings.mode_pending, None);
    assert!(changes.has_changed().unwrap());
    assert_eq!(*changes.borrow_and_update(), Mode::Live);
    assert_eq!(engine.app_info().await.unwrap().mode, Mode::Live);
}

#[tokio::test]
async fn started_with_demo_the_saved_live_mode_says_it_waits_for_a_start_without() {
    let home = tempfile::tempdir().unwrap();
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let engine = Engine::with_secrets(Paths::under(home.path()), true, store);
    let values = engine.settings_get().await.unwrap().values;
    let out = engine.settings_save(live_values(values)).await.unwrap();
    assert!(out.saved, "{:?}", out.errors);
    assert_eq!(out.settings.running_mode, Mode::Demo);
    assert!(out.settings.mode_pending.unwrap().contains("--demo"));
}
