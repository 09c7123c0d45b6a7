//! Stands in for a live operator's world, for the browser suite's live walk
//! (tests/e2e/live-walk.spec.ts): the fake Hetzner API, the fake PDM, a real
//! sshd on loopback, the fake Kubernetes API and an HTTPS console
//! (tests/live_app.rs), with the real engine where one is configured, and the
//! app's `--serve` in live mode over them. Prints one JSON line (the address,
//! a read-write token the fake API accepts), then boots the control plane of
//! the deployment the walk starts, until its stdin closes.
//!
//! Run it in a fresh kernel keyring session without D-Bus (`keyctl session -`):
//! the app keeps its secrets in the OS keyring, and the rig reads the host key
//! the run generated from it, as a server boots with the key cloud-init installs.

use std::io::Read;
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::provision::phases::expected_releases;
use catalyst_tests::fakes::hetzner::RW_TOKEN;
use catalyst_tests::live_app::{LiveHome, app};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut live = LiveHome::new().await;
    let log = live.run.log.clone();
    let mut child = app(&live.home, &["--serve", "--port", "0"], &log)
        .spawn()
        .expect("the app binary");

    // The address --serve prints (with its per-launch token).
    let end = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(u) = text.lines().find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:") && w.contains("#token="))
        }) {
            break u.to_owned();
        }
        assert!(Instant::now() < end, "--serve printed no address:\n{text}");
        if let Some(st) = child.try_wait().unwrap() {
            panic!("the app ended with {st}:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let engine = match &live.under_test {
        catalyst_tests::support::EngineUnderTest::Real(p) => p.display().to_string(),
        catalyst_tests::support::EngineUnderTest::StandIn => "stand-in".to_owned(),
    };
    println!(
        "{}",
        serde_json::json!({ "url": url, "token": RW_TOKEN, "engine": engine, "home": live.home, "log": log })
    );

    // Stdin closing (the spec ends, or dies) ends the rig and the app with it.
    let (done_tx, mut done) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut sink);
        let _ = done_tx.send(());
    });
    let deployments = live.home.join("data/deployments");
    let mut converged = std::collections::HashSet::new();
    loop {
        if let Ok(dir) = std::fs::read_dir(&deployments) {
            for e in dir.flatten() {
                let id = e.file_name().to_string_lossy().into_owned();
                live.run.boot_control_plane(&id);
                // The cluster's Flux installs what the run asked for, as a healthy one does.
                if !converged.contains(&id)
                    && let Some(components) = components_of(&e.path())
                {
                    live.kube.converged(&expected_releases(&components));
                    converged.insert(id);
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            eprintln!("live-rig: the app ended; it said:\n{}", live.run.log_tail(30));
            break;
        }
        tokio::select! {
            _ = &mut done => break,
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    // keyutils links what the app kept into the user's persistent keyring,
    // which outlives the session: take back what this walk put there.
    let keyring: &dyn catalyst_provisioner::engine::secrets::SecretStore = live.run.keyring.as_ref();
    for id in converged
        .iter()
        .map(String::as_str)
        .chain([catalyst_provisioner::engine::credentials::DRAFT_OWNER])
    {
        let _ = catalyst_provisioner::engine::provision::run_secrets::forget(keyring, id);
    }
    let _ = keyring.delete("pdm-password");
}

/// The components a deployment's record asks for, once the record is readable.
fn components_of(dir: &std::path::Path) -> Option<Vec<String>> {
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("record.json")).ok()?).ok()?;
    let list = rec["answers"]["components"].as_array()?;
    Some(
        list.iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
    )
}
