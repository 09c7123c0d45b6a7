//! A live run stopped from outside its phases' own work: a phase past the
//! time limit the settings give it fails and says which, and a second
//! Cancel kills a tofu that is slow to stop (the stand-in tofu made to hang
//! on cue, which a real engine cannot be). The doubles as in live_run.rs.

use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;

use catalyst_provisioner::engine::Paths;
use catalyst_provisioner::engine::events::{EventKind, Phase};
use catalyst_provisioner::engine::provision::IdArgs;
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner};
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig};
use catalyst_tests::support::{
    engine_record, events, live_engine, live_settings, real_engine_settings, start_run as start, wait_end,
    wizard_answers_typed,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phase_past_its_time_limit_from_the_settings_fails_and_says_which() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    // Nothing answers SSH here, and the connect would wait 60 s for the
    // server to boot; the phase's limit of 2 s ends it first.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let mut settings = real_engine_settings(&hetzner, &pdm, home.path()).0;
    settings["ssh_host"] = json!("127.0.0.1");
    settings["ssh_port"] = json!(closed_port);
    settings["ssh_connect_timeout_s"] = json!(60);
    settings["timeouts"] = json!({"cloud_init": 2});
    let (_secrets, engine) = live_engine(&paths, &settings, &pdm);
    let (a, _key) = wizard_answers_typed(&engine, "omantel-slow").await;
    let t0 = std::time::Instant::now();
    let started = start(&engine, a).await.unwrap();
    let id = started.id;
    let record = wait_end(&paths, &id, 50).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(error.contains("time limit of 2 s"), "{error}");
    assert!(record["failure"]["hint"].as_str().unwrap().contains("Settings"));
    // Well before the 60 s SSH wait would have ended on its own.
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(40), "took {took:?}");
}

/// The app's stand-in tofu in hang mode: the server create waits for an
/// interrupt, then "saves state" for two minutes, ignoring it meanwhile.
/// Settings name this wrapper, so only this run's tofu hangs.
fn hanging_tofu(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("tofu-hang");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nCATALYST_FAKE_TOFU_FAIL=hang CATALYST_FAKE_TOFU_SHUTDOWN_MS=120000 \
             CATALYST_FAKE_TOFU_HEARTBEAT_MS=100 exec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_tofu")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cancel_from_the_app_kills_a_tofu_that_is_slow_to_stop() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let tofu = hanging_tofu(home.path());
    let settings = live_settings(&hetzner, &pdm, &tofu.display().to_string());
    let (_secrets, engine) = live_engine(&paths, &settings, &pdm);
    let (a, _key) = wizard_answers_typed(&engine, "omantel-cancel2").await;
    let started = start(&engine, a).await.unwrap();
    let id = started.id;

    // Wait until tofu is inside the server create that hangs.
    let mut creating = false;
    for _ in 0..1200 {
        let r = engine_record(&paths, &id);
        assert_eq!(r["status"], "running", "the run stopped early: {r}");
        creating = events(&engine, &id).await.iter().any(|e| {
            e.phase == Phase::TofuApply
                && matches!(&e.kind, EventKind::Resource { address, state, .. }
                    if address.starts_with("hcloud_server.") && state == "creating")
        });
        if creating {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(creating, "the apply never reached the server create");

    let cancel = IdArgs { id: id.clone() };
    engine.provision_cancel(cancel.clone()).await.unwrap();
    // One cancel only interrupts: tofu is still "saving its state".
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(engine_record(&paths, &id)["status"], "running");

    let t0 = std::time::Instant::now();
    engine.provision_cancel(cancel).await.unwrap();
    let record = wait_end(&paths, &id, 30).await;
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(record["status"], "cancelled", "{record}");
    assert_eq!(record["phase"], "tofu_apply", "{record}");
    let evs = events(&engine, &id).await;
    let said = |needle: &str| {
        evs.iter()
            .any(|e| matches!(&e.kind, EventKind::Log { line, .. } if line.contains(needle)))
    };
    assert!(said("Cancel requested for tofu apply"), "{evs:#?}");
    assert!(said("Second cancel: killing tofu apply"), "{evs:#?}");
    assert!(said("Cancelled during"), "{evs:#?}");
    // The timeline shows the phase as cancelled, not as running forever.
    let last = evs
        .iter()
        .rev()
        .find(|e| !matches!(e.kind, EventKind::Log { .. }))
        .unwrap();
    assert!(
        matches!(last.kind, EventKind::PhaseCancelled) && last.phase == Phase::TofuApply,
        "{last:?}"
    );
}
