//! Taking a run away and showing it again: the kubeconfig saved (mode 0600,
//! a clear error before the run has one), the event log exported with its
//! header, and a replay of it that reproduces the recorded sequence exactly
//! without ever becoming a deployment. Time is paused (tokio test-util).

use std::sync::Arc;

use catalyst_provisioner::engine::events::ProvisionEvent;
use catalyst_provisioner::engine::keys::SaveDialog;
use catalyst_provisioner::engine::{Engine, Paths};
use catalyst_tests::support::{call, demo_answers};
use serde_json::{Value, json};

async fn run_to(engine: &Engine, scenario: &str, want: &str) -> String {
    let args =
        json!({"answers": demo_answers(engine, "omantel-rec").await, "speed": 60, "scenario": scenario});
    let s = call(engine, json!({"cmd": "provision_start", "args": args}))
        .await
        .unwrap();
    let id = s["id"].as_str().unwrap().to_owned();
    for _ in 0..100_000 {
        let r = call(engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
            .await
            .unwrap();
        if r["status"] == want {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{id} never reached {want}");
}

fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

struct Cancels;
impl SaveDialog for Cancels {
    fn pick_save_path(&self, _: &str) -> Option<std::path::PathBuf> {
        None
    }
}

#[tokio::test(start_paused = true)]
async fn a_replay_reproduces_the_recorded_run_exactly_and_is_never_a_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let mut sent = engine.events().subscribe();
    // The retry scenario: a failed component, then installed — a rich sequence.
    let id = run_to(&engine, "component_retry", "done").await;
    // What the window saw live, as sent.
    let mut live: Vec<ProvisionEvent> = Vec::new();
    while let Ok(e) = sent.try_recv() {
        if e.deployment_id == id {
            live.push(e);
        }
    }
    let recorded: Vec<ProvisionEvent> = serde_json::from_value(
        call(
            &engine,
            json!({"cmd": "deployment_events", "args": {"id": id, "since_seq": 0}}),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(recorded.len() > 100, "{}", recorded.len());
    assert_eq!(live, recorded, "the log on disk differs from what was sent");
    let record = call(&engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
        .await
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("run.events.jsonl");
    let exported = call(
        &engine,
        json!({"cmd": "deployment_events_export", "args": {"id": id, "path": file}}),
    )
    .await
    .unwrap();
    assert_eq!(exported["path"], file.to_str().unwrap());
    assert_eq!(exported["events"], recorded.len() as u64);
    assert_eq!(exported["masked"], 0);
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "catalyst-provisioner/event-log");
    assert_eq!(header["version"], 1);
    assert_eq!(header["recorded_at"], record["created_at"]);
    assert_eq!(header["fqdn"], "omantel-rec.omani.works");
    assert_eq!(header["app_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(header["demo"], true);
    assert_eq!(header["status"], "done");
    // The run's generated admin key never reaches the file.
    assert!(!text.contains("PRIVATE KEY"), "a private key in the export");

    let store_before = std::fs::read_dir(engine.paths().data_dir.join("deployments"))
        .unwrap()
        .count();
    let mut bus = engine.events().subscribe();
    for args in [
        json!({"path": file, "speed": 30}),
        json!({"text": text, "speed": 30}),
    ] {
        let r = call(&engine, json!({"cmd": "replay_load", "args": args}))
            .await
            .unwrap();
        let replayed: Vec<ProvisionEvent> = serde_json::from_value(r["events"].clone()).unwrap();
        // Exactly the recorded sequence: kinds, phases, payloads, seq, order.
        assert_eq!(replayed, recorded);
        assert_eq!(r["header"]["fqdn"], "omantel-rec.omani.works");
        assert_eq!(r["speed"], 30.0);
        let offsets: Vec<u64> = serde_json::from_value(r["offsets_ms"].clone()).unwrap();
        assert_eq!(offsets.len(), recorded.len());
        assert_eq!(offsets[0], 0);
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "offsets go back");
    }
    // Never a deployment: not listed, nothing new on disk, nothing on the bus.
    let list = call(&engine, json!({"cmd": "deployments_list"})).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(engine.paths().data_dir.join("deployments"))
            .unwrap()
            .count(),
        store_before
    );
    assert!(bus.try_recv().is_err(), "a replay published an event");

    // Bad input is an error, never a panic.
    for (args, code) in [
        (json!({"path": "run.jsonl"}), "relative_path"),
        (json!({"text": "hello"}), "not_an_event_log"),
        (json!({}), "invalid_args"),
        (json!({"text": text, "speed": 0}), "invalid_speed"),
        (json!({"path": out.path()}), "file_unreadable"),
    ] {
        let e = call(&engine, json!({"cmd": "replay_load", "args": args}))
            .await
            .unwrap_err();
        assert_eq!(e.code, code, "{}", e.message);
    }
}

#[tokio::test(start_paused = true)]
async fn the_kubeconfig_is_saved_0600_once_the_run_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("k.yaml");

    // A run that stopped at the apply has none yet: a clear error, no file.
    let failed = run_to(&engine, "quota_exceeded", "failed").await;
    let e = call(
        &engine,
        json!({"cmd": "deployment_kubeconfig_save", "args": {"id": failed, "path": target}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "no_kubeconfig");
    assert!(e.message.contains("has no kubeconfig yet"), "{}", e.message);
    assert!(!target.exists());

    let id = run_to(&engine, "happy_path", "done").await;
    let saved = call(
        &engine,
        json!({"cmd": "deployment_kubeconfig_save", "args": {"id": id, "path": target}}),
    )
    .await
    .unwrap();
    assert_eq!(saved["path"], target.to_str().unwrap());
    assert_eq!(mode(&target), 0o600);
    let yaml = std::fs::read_to_string(&target).unwrap();
    assert!(yaml.starts_with("# Demo mode: a simulated cluster"), "{yaml}");
    assert!(yaml.contains("server: https://198.51.100."), "{yaml}");
    assert!(
        yaml.contains("current-context: omantel-rec.omani.works"),
        "{yaml}"
    );
    assert_eq!(engine.kubeconfig_text(&id).await.unwrap(), yaml);

    // Without a path or a window: the exports folder, and it says where.
    let saved = call(
        &engine,
        json!({"cmd": "deployment_kubeconfig_save", "args": {"id": id}}),
    )
    .await
    .unwrap();
    let p = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert!(p.starts_with(dir.path()), "{p:?}");
    assert!(
        p.ends_with("exports/omantel-rec.omani.works.kubeconfig.yaml"),
        "{p:?}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), yaml);

    // A dialog the operator cancels writes nothing.
    engine.set_save_dialog(Arc::new(Cancels));
    let saved = call(
        &engine,
        json!({"cmd": "deployment_kubeconfig_save", "args": {"id": id}}),
    )
    .await
    .unwrap();
    assert_eq!(saved["path"], Value::Null);

    for (args, code) in [
        (json!({"id": id, "path": "k.yaml"}), "relative_path"),
        (json!({"id": id, "path": out.path()}), "export_failed"),
        (json!({"id": "d-nope", "path": target}), "not_found"),
        (json!({"id": "../../etc", "path": target}), "record_unreadable"),
    ] {
        let e = call(
            &engine,
            json!({"cmd": "deployment_kubeconfig_save", "args": args}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, code, "{}", e.message);
    }
}
