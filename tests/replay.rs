//! Taking a run away and showing it again: the kubeconfig saved (mode 0600,
//! a clear error before the run has one), the event log exported with its
//! header, and a replay of it that reproduces the recorded sequence exactly
//! without ever becoming a deployment. Time is paused (tokio test-util).

use std::sync::Arc;

use catalyst_provisioner::engine::events::ProvisionEvent;
use catalyst_provisioner::engine::exports::SaveArgs;
use catalyst_provisioner::engine::keys::SaveDialog;
use catalyst_provisioner::engine::provision::StartArgs;
use catalyst_provisioner::engine::replay::ReplayArgs;
use catalyst_provisioner::engine::store::deployments::{DemoScenario, RunStatus};
use catalyst_provisioner::engine::{Engine, ErrorCode, Paths};
use catalyst_tests::support::{demo_answers, events, record};
use serde_json::Value;

async fn run_to(engine: &Engine, scenario: DemoScenario, want: RunStatus) -> String {
    let args = StartArgs {
        answers: demo_answers(engine, "omantel-rec").await,
        scenario: Some(scenario),
        speed: Some(60.0),
    };
    let id = engine.provision_start(args).await.unwrap().id;
    for _ in 0..100_000 {
        if record(engine, &id).await.status == want {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{id} never reached {want:?}");
}

fn path_of(p: &std::path::Path) -> Option<String> {
    Some(p.display().to_string())
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
    let id = run_to(&engine, DemoScenario::ComponentRetry, RunStatus::Done).await;
    // What the window saw live, as sent.
    let mut live: Vec<ProvisionEvent> = Vec::new();
    while let Ok(e) = sent.try_recv() {
        if e.deployment_id == id {
            live.push(e);
        }
    }
    let recorded = events(&engine, &id).await;
    assert!(recorded.len() > 100, "{}", recorded.len());
    assert_eq!(live, recorded, "the log on disk differs from what was sent");
    let rec = record(&engine, &id).await;

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("run.events.jsonl");
    let exported = engine
        .deployment_events_export(SaveArgs {
            id: id.clone(),
            path: path_of(&file),
            overwrite: None,
        })
        .await
        .unwrap();
    assert_eq!(exported.path.as_deref(), Some(file.to_str().unwrap()));
    assert_eq!(exported.events, recorded.len() as u64);
    assert_eq!(exported.masked, 0);
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    // The file's own format, read as JSON: what another tool would see.
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "catalyst-provisioner/event-log");
    assert_eq!(header["version"], 1);
    assert_eq!(header["recorded_at"], rec.created_at.as_str());
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
        ReplayArgs {
            text: None,
            path: path_of(&file),
            speed: Some(30.0),
        },
        ReplayArgs {
            text: Some(text.clone()),
            path: None,
            speed: Some(30.0),
        },
    ] {
        let r = engine.replay_load(args).await.unwrap();
        let replayed: Vec<ProvisionEvent> = r.events;
        // Exactly the recorded sequence: kinds, phases, payloads, seq, order.
        assert_eq!(replayed, recorded);
        assert_eq!(r.header.fqdn, "omantel-rec.omani.works");
        assert_eq!(r.speed, 30.0);
        let offsets = r.offsets_ms;
        assert_eq!(offsets.len(), recorded.len());
        assert_eq!(offsets[0], 0);
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "offsets go back");
    }
    // Never a deployment: not listed, nothing new on disk, nothing on the bus.
    assert_eq!(engine.deployments_list().await.unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(engine.paths().data_dir.join("deployments"))
            .unwrap()
            .count(),
        store_before
    );
    assert!(bus.try_recv().is_err(), "a replay published an event");

    // Bad input is an error, never a panic.
    let replay = |text: Option<&str>, path: Option<String>, speed: Option<f64>| ReplayArgs {
        text: text.map(str::to_owned),
        path,
        speed,
    };
    for (args, code) in [
        (
            replay(None, Some("run.jsonl".into()), None),
            ErrorCode::RelativePath,
        ),
        (replay(Some("hello"), None, None), ErrorCode::NotAnEventLog),
        (replay(None, None, None), ErrorCode::InvalidArgs),
        (replay(Some(&text), None, Some(0.0)), ErrorCode::InvalidSpeed),
        (replay(None, path_of(out.path()), None), ErrorCode::FileUnreadable),
    ] {
        let e = engine.replay_load(args).await.unwrap_err();
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
    let save = |id: &str, path: Option<String>| SaveArgs {
        id: id.to_owned(),
        path,
        overwrite: None,
    };
    let failed = run_to(&engine, DemoScenario::QuotaExceeded, RunStatus::Failed).await;
    let e = engine
        .deployment_kubeconfig_save(save(&failed, path_of(&target)))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoKubeconfig);
    assert!(e.message.contains("has no kubeconfig yet"), "{}", e.message);
    assert!(!target.exists());

    let id = run_to(&engine, DemoScenario::HappyPath, RunStatus::Done).await;
    let saved = engine
        .deployment_kubeconfig_save(save(&id, path_of(&target)))
        .await
        .unwrap();
    assert_eq!(saved.path.as_deref(), Some(target.to_str().unwrap()));
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
    let saved = engine.deployment_kubeconfig_save(save(&id, None)).await.unwrap();
    let p = std::path::PathBuf::from(saved.path.expect("the exports folder is named"));
    assert!(p.starts_with(dir.path()), "{p:?}");
    assert!(
        p.ends_with("exports/omantel-rec.omani.works.kubeconfig.yaml"),
        "{p:?}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), yaml);

    // A dialog the operator cancels writes nothing.
    engine.set_save_dialog(Arc::new(Cancels));
    let saved = engine.deployment_kubeconfig_save(save(&id, None)).await.unwrap();
    assert_eq!(saved.path, None);

    for (args, code) in [
        (save(&id, Some("k.yaml".into())), ErrorCode::RelativePath),
        (save(&id, path_of(out.path())), ErrorCode::ExportFailed),
        (save("d-nope", path_of(&target)), ErrorCode::NotFound),
        (save("../../etc", path_of(&target)), ErrorCode::RecordUnreadable),
    ] {
        let e = engine.deployment_kubeconfig_save(args).await.unwrap_err();
        assert_eq!(e.code, code, "{}", e.message);
    }
}
