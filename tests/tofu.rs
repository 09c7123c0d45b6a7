//! The tofu runner against the stand-in `tofu` (tests/fakes/tofu), which
//! creates the module's resources in a Hetzner-compatible API: here a small
//! recording API (tests/tofu/recording_api.rs), so the runner's contract is tested on its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use catalyst_provisioner::engine::tofu::messages::{LogSource, Operation, ResourceAction, Severity};
use catalyst_provisioner::engine::tofu::process::RunRecord;
use catalyst_provisioner::engine::tofu::{
    BootInputs, CancelHandle, ChildEnv, EngineKind, GitOpsSource, HostKey, Location, ModuleInputs,
    RegionSpec, Runner, Secret, TofuBinary, TofuEnvOptions, TofuError, TofuEvent, TofuSecrets, Topology,
    cloudinit, locate, module,
};

const TOKEN: &str = "tofu-test-token-canary-5f3c9a0d7e1b2c4a6f8e0d1c3b5a79e8d6c4b2a0f1e3d5c7b9a8e6d4c2b0a1";
const HOST_KEY_CANARY: &str = "HOSTKEYCANARY7f2e9c1b";
const PASSPHRASE: &str = "passphrase-canary-0b7d5e3c1a";
const K3S_TOKEN: &str = "K3sTokenCanary4d6f8a0c2e4b6d8f0a2c4e6b";

// The recording API and the fixtures (tests/tofu/); they share this file's
// imports and canaries through `use super::*`.
#[path = "tofu/fixtures.rs"]
mod fixtures;
#[path = "tofu/recording_api.rs"]
mod recording_api;
use fixtures::*;
use recording_api::*;

#[tokio::test]
async fn full_apply_streams_typed_events_in_order_and_is_idempotent() {
    let (url, api) = start_api().await;
    let m = inputs(Topology::Solo, false, 2);
    let r = rig(&url, &m, &[]);
    let cancel = CancelHandle::new();
    let (events, mut sink) = collect();

    r.runner.init(&mut sink, &cancel).await.unwrap();
    let plan = r.runner.plan(&mut sink, &cancel).await.unwrap();
    // ssh key, network, subnet, firewall, 3 servers, lb, lb network, 3 targets, 2 services
    assert_eq!((plan.operation, plan.add, plan.remove), (Operation::Plan, 14, 0));
    let before = events.lock().unwrap().len();
    let applied = r.runner.apply(&mut sink, &cancel).await.unwrap();
    assert_eq!((applied.operation, applied.add), (Operation::Apply, 14));

    let evs = events.lock().unwrap()[before..].to_vec();
    println!("events in one SOLO apply: {}", evs.len());
    assert!(
        matches!(&evs[0], TofuEvent::Version { tofu, .. } if tofu == "1.10.5"),
        "{:?}",
        evs[0]
    );
    let mut started = Vec::new();
    let mut completed = Vec::new();
    for e in &evs {
        match e {
            TofuEvent::ResourceStart { address, action, .. } => {
                assert_eq!(*action, ResourceAction::Create);
                started.push(address.clone());
            }
            TofuEvent::ResourceComplete { address, id, .. } => {
                assert!(started.contains(address), "{address} completed before it started");
                assert!(
                    id.as_deref().is_some_and(|i| !i.is_empty()),
                    "{address} has no id"
                );
                completed.push(address.clone());
            }
            _ => {}
        }
    }
    assert_eq!(completed.len(), 14);
    let pos = |a: &str| completed.iter().position(|c| c == a).unwrap();
    assert!(pos("hcloud_network_subnet.region[\"fsn1\"]") < pos("hcloud_server.control_plane[\"fsn1-cp1\"]"));
    assert!(
        pos("hcloud_load_balancer_network.region[\"fsn1\"]")
            < pos("hcloud_load_balancer_target.node[\"fsn1-w2\"]")
    );
    let summary_at = evs
        .iter()
        .position(|e| matches!(e, TofuEvent::ChangeSummary { .. }))
        .unwrap();
    assert!(
        evs[summary_at + 1..]
            .iter()
            .any(|e| matches!(e, TofuEvent::Outputs { .. }))
    );
    assert!(
        evs[..summary_at]
            .iter()
            .all(|e| !matches!(e, TofuEvent::Outputs { .. }))
    );

    let out = r.runner.output(&cancel).await.unwrap();
    assert_eq!(out.sovereign_fqdn, "acme.omani.works");
    assert_eq!(out.console_url, "https://console.acme.omani.works");
    assert_eq!(out.primary_location, "fsn1");
    let lb = out.primary_lb_ip().unwrap().to_owned();
    assert!(
        live(&api, "load_balancers")
            .iter()
            .any(|l| l["public_net"]["ipv4"]["ip"] == lb.as_str())
    );
    assert_eq!(out.control_plane_ips["fsn1"].len(), 1);

    // What reached the API: names, labels, user_data, zone.
    let servers = live(&api, "servers");
    assert_eq!(servers.len(), 3);
    for s in &servers {
        assert_eq!(s["labels"]["catalyst.openova.io/sovereign"], "acme.omani.works");
        assert_eq!(
            s["labels"]["catalyst.openova.io/deployment-id"],
            m.deployment_id.as_str()
        );
        assert!(s["user_data"].as_str().unwrap().starts_with("#cloud-config\n"));
        assert!(
            s["name"]
                .as_str()
                .unwrap()
                .starts_with("catalyst-acme-omani-works-fsn1-")
        );
    }
    let reqs = api.lock().unwrap().requests.clone();
    let subnet = reqs
        .iter()
        .find(|(_, p, _)| p.ends_with("/actions/add_subnet"))
        .unwrap();
    assert_eq!(subnet.2["network_zone"], "eu-central");
    let attach = reqs
        .iter()
        .filter(|(_, p, _)| p.starts_with("servers/") && p.ends_with("/actions/attach_to_network"))
        .count();
    assert_eq!(attach, 3);

    // A second plan/apply changes nothing (deterministic names, state kept).
    let again = r.runner.plan(&mut sink, &cancel).await.unwrap();
    assert_eq!((again.add, again.change, again.remove), (0, 0, 0));
    let creates_before = reqs.iter().filter(|(m, _, _)| m == "POST").count();
    r.runner.apply(&mut sink, &cancel).await.unwrap();
    let creates_after = api
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(m, _, _)| m == "POST")
        .count();
    assert_eq!(creates_before, creates_after);

    // Destroy deletes what was created.
    let d = r.runner.destroy(&mut sink, &cancel).await.unwrap();
    assert_eq!((d.operation, d.remove), (Operation::Destroy, 14));
    assert!(
        api.lock().unwrap().objects.is_empty(),
        "left behind: {:?}",
        api.lock().unwrap().objects
    );
}

#[tokio::test]
async fn canary_secrets_never_reach_a_file_in_the_work_dir_or_an_event() {
    let (url, _api) = start_api().await;
    let m = inputs(Topology::Triangle, true, 1);
    let r = rig(&url, &m, &[]);
    let cancel = CancelHandle::new();
    let (events, mut sink) = collect();
    // Every file in the work dir, checked for every canary; returns the files.
    let grep_work = |when: &str| {
        let mut files = Vec::new();
        files_under(&r.work, &mut files);
        for f in &files {
            let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
            for canary in [TOKEN, HOST_KEY_CANARY, PASSPHRASE, K3S_TOKEN] {
                assert!(!text.contains(canary), "{when}: {} holds a secret", f.display());
            }
        }
        files
    };
    r.runner.init(&mut sink, &cancel).await.unwrap();
    r.runner.plan(&mut sink, &cancel).await.unwrap();
    // The saved plan carries every variable value; apply deletes it, so
    // look while it is there.
    let files = grep_work("after plan");
    assert!(files.iter().any(|f| f.ends_with("tfplan")), "{files:?}");
    r.runner.apply(&mut sink, &cancel).await.unwrap();
    r.runner.output(&cancel).await.unwrap();
    let files = grep_work("after apply");
    assert!(files.iter().any(|f| f.ends_with("terraform.tfvars.json")));
    assert!(files.iter().any(|f| f.ends_with("terraform.tfstate")));
    let all = serde_json::to_string(&*events.lock().unwrap()).unwrap();
    for canary in [TOKEN, HOST_KEY_CANARY, PASSPHRASE, K3S_TOKEN] {
        assert!(!all.contains(canary));
    }
}

#[tokio::test]
async fn cancel_mid_apply_saves_state_and_reports_cancelled() {
    let (url, api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    let r = rig(
        &url,
        &m,
        &[
            ("CATALYST_FAKE_TOFU_FAIL", "hang"),
            ("CATALYST_FAKE_TOFU_HEARTBEAT_MS", "100"),
        ],
    );
    let cancel = CancelHandle::new();
    let (_events, mut sink) = collect();
    r.runner.init(&mut sink, &cancel).await.unwrap();
    r.runner.plan(&mut sink, &cancel).await.unwrap();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut sink = move |e: TofuEvent| {
        let _ = tx.send(e);
    };
    let c2 = cancel.clone();
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut cancelled_at = None;
        while let Some(e) = rx.recv().await {
            // Cancel once the first server is being created and progressing.
            if cancelled_at.is_none()
                && matches!(&e, TofuEvent::ResourceProgress { address, .. } if address.starts_with("hcloud_server."))
            {
                c2.cancel();
                cancelled_at = Some(Instant::now());
            }
            seen.push(e);
        }
        (seen, cancelled_at)
    });
    let result = r.runner.apply(&mut sink, &cancel).await;
    let returned = Instant::now();
    drop(sink);
    let (seen, cancelled_at) = watcher.await.unwrap();
    assert!(matches!(result, Err(TofuError::Cancelled { .. })), "{result:?}");
    let took = returned - cancelled_at.expect("never saw the server progress");
    println!("cancel to exit: {} ms", took.as_millis());
    assert!(took < Duration::from_secs(5));
    assert!(seen.iter().any(
        |e| matches!(e, TofuEvent::Log { message, source: LogSource::Stdout, .. }
        if message.contains("Interrupt received"))
    ));
    assert!(
        seen.iter()
            .any(|e| matches!(e, TofuEvent::ResourceErrored { .. }))
    );

    // What was created before the interrupt is in the saved state, and a
    // resume plans only the rest.
    let state = std::fs::read_to_string(r.work.join("terraform.tfstate")).unwrap();
    assert!(state.contains("hcloud_network.region[\\\"fsn1\\\"]"), "{state}");
    assert!(!live(&api, "networks").is_empty());
    let fresh = rig(&url, &m, &[]);
    std::fs::remove_dir_all(&fresh.work).unwrap();
    copy_dir(&r.work, &fresh.work);
    let (_e, mut sink) = collect();
    let cancel = CancelHandle::new();
    let p = fresh.runner.plan(&mut sink, &cancel).await.unwrap();
    // SOLO without workers is 10 resources; the key, network, subnet and
    // firewall were created before the server hung.
    assert_eq!(p.add, 10 - 4, "{p:?}");
}

/// Runs `apply` until the sink sees an event `stop_at` accepts, then drops
/// its future, as if the app had gone away: nothing tells tofu. Returns
/// the events the sink saw (what the app had shown).
async fn abandon_apply(r: &Rig, stop_at: impl Fn(&TofuEvent) -> bool + Send + 'static) -> Vec<TofuEvent> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    let (seen, mut collect) = collect();
    let mut sink = move |e: TofuEvent| {
        let stop = stop_at(&e);
        collect(e);
        if stop && let Some(tx) = tx.take() {
            let _ = tx.send(());
        }
    };
    let cancel = CancelHandle::new();
    tokio::select! {
        res = r.runner.apply(&mut sink, &cancel) => panic!("the apply ended first: {res:?}"),
        _ = rx => {}
    }
    std::mem::take(&mut *seen.lock().unwrap())
}

#[tokio::test]
async fn a_tofu_whose_runner_went_away_is_followed_to_its_end_before_the_next_command() {
    let (url, api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    let r = rig(&url, &m, &[("CATALYST_FAKE_TOFU_CREATE_DELAY_MS", "200")]);
    let cancel = CancelHandle::new();
    let (_e, mut sink) = collect();
    r.runner.init(&mut sink, &cancel).await.unwrap();
    r.runner.plan(&mut sink, &cancel).await.unwrap();
    let shown = abandon_apply(&r, |e| matches!(e, TofuEvent::ResourceStart { .. })).await;
    let earlier = RunRecord::read(&r.work).expect("the apply's pid is recorded");
    assert_eq!(earlier.command, "apply");
    assert!(earlier.alive(), "tofu must outlive its runner");

    let (events, mut sink) = collect();
    let p = r.runner.plan(&mut sink, &cancel).await.unwrap();
    // The earlier apply created everything (SOLO without workers: 10) and
    // saved it; the plan started only after it had ended.
    assert_eq!(p.add, 0, "{p:?}");
    assert!(!earlier.alive());
    assert!(RunRecord::read(&r.work).is_none());
    let events = events.lock().unwrap();
    assert!(events.iter().any(
        |e| matches!(e, TofuEvent::Log { message, source: LogSource::Runner, .. }
        if message.contains("from an earlier run of the app is still running")
            && message.contains("not repeated"))
    ));
    // What the app had shown before it went is not shown again.
    let started = |evs: &[TofuEvent]| -> Vec<String> {
        evs.iter()
            .filter_map(|e| match e {
                TofuEvent::ResourceStart { address, .. } => Some(address.clone()),
                _ => None,
            })
            .collect()
    };
    let before = started(&shown);
    let after = started(&events);
    assert!(!before.is_empty(), "{shown:?}");
    for a in &before {
        assert!(!after.contains(a), "{a} shown twice: {after:?}");
    }
    // Each of SOLO's 10 resources started once, before or after.
    assert_eq!(before.len() + after.len(), 10, "{before:?} then {after:?}");
    // Its output was followed: the last object it created, reported.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, TofuEvent::ResourceComplete { address, .. }
        if address.starts_with("hcloud_load_balancer_service.")))
    );
    for coll in ["ssh_keys", "networks", "firewalls", "servers", "load_balancers"] {
        assert_eq!(live(&api, coll).len(), 1, "{coll}");
    }
}

#[tokio::test]
async fn a_cancel_while_following_an_earlier_tofu_interrupts_that_tofu() {
    let (url, _api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    let r = rig(
        &url,
        &m,
        &[
            ("CATALYST_FAKE_TOFU_FAIL", "hang"),
            ("CATALYST_FAKE_TOFU_HEARTBEAT_MS", "100"),
        ],
    );
    let cancel = CancelHandle::new();
    let (_e, mut sink) = collect();
    r.runner.init(&mut sink, &cancel).await.unwrap();
    r.runner.plan(&mut sink, &cancel).await.unwrap();
    // Gone while the server create hangs (until an interrupt).
    abandon_apply(
        &r,
        |e| matches!(e, TofuEvent::ResourceProgress { address, .. } if address.starts_with("hcloud_server.")),
    )
    .await;
    let earlier = RunRecord::read(&r.work).unwrap();
    assert!(earlier.alive());

    let c2 = cancel.clone();
    let mut sink = move |e: TofuEvent| {
        if matches!(&e, TofuEvent::Log { message, .. } if message.contains("still running")) {
            c2.cancel();
        }
    };
    let started = Instant::now();
    let result = r.runner.plan(&mut sink, &cancel).await;
    assert!(
        matches!(&result, Err(TofuError::Cancelled { command }) if command == "apply"),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!earlier.alive());
    // It stopped gracefully: what it had created is in the state.
    let state = std::fs::read_to_string(r.work.join("terraform.tfstate")).unwrap();
    assert!(state.contains("hcloud_network.region[\\\"fsn1\\\"]"), "{state}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn a_second_cancel_kills() {
    let (url, _api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    let r = rig(
        &url,
        &m,
        &[
            ("CATALYST_FAKE_TOFU_FAIL", "hang"),
            ("CATALYST_FAKE_TOFU_HEARTBEAT_MS", "100"),
            ("CATALYST_FAKE_TOFU_SHUTDOWN_MS", "30000"),
        ],
    );
    let cancel = CancelHandle::new();
    let (_e, mut sink) = collect();
    r.runner.init(&mut sink, &cancel).await.unwrap();
    r.runner.plan(&mut sink, &cancel).await.unwrap();
    // First cancel on the first progress; the stand-in then takes 30 s to
    // "shut down gracefully", and the second cancel half a second later must
    // cut that short.
    let c2 = cancel.clone();
    let mut first = true;
    let mut sink = move |e: TofuEvent| {
        if first && matches!(&e, TofuEvent::ResourceProgress { .. }) {
            first = false;
            c2.cancel();
            let c3 = c2.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                c3.cancel();
            });
        }
    };
    let started = Instant::now();
    let result = r.runner.apply(&mut sink, &cancel).await;
    assert!(matches!(result, Err(TofuError::Killed { .. })), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the kill did not cut the 30 s shutdown short"
    );
}

#[tokio::test]
async fn transient_init_failure_is_retried_and_config_errors_are_not() {
    let (url, _api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    let r = rig(&url, &m, &[("CATALYST_FAKE_TOFU_FAIL", "init-transient")]);
    let cancel = CancelHandle::new();
    let (events, mut sink) = collect();
    r.runner.init(&mut sink, &cancel).await.unwrap();
    let evs = events.lock().unwrap().clone();
    let retries = evs
        .iter()
        .filter(|e| matches!(e, TofuEvent::Log { source: LogSource::Runner, message, .. } if message.contains("trying again")))
        .count();
    assert_eq!(retries, 1);

    let r = rig(
        &url,
        &m,
        &[
            ("CATALYST_FAKE_TOFU_FAIL", "init-transient"),
            ("CATALYST_FAKE_TOFU_FAIL_TIMES", "5"),
        ],
    );
    let (_e, mut sink) = collect();
    match r.runner.init(&mut sink, &cancel).await {
        Err(TofuError::Failed { command, summary, .. }) => {
            assert_eq!(command, "init");
            assert!(summary.contains("Failed to install provider"), "{summary}");
        }
        other => panic!("{other:?}"),
    }

    let r = rig(&url, &m, &[("CATALYST_FAKE_TOFU_FAIL", "init-config")]);
    let (events, mut sink) = collect();
    assert!(matches!(
        r.runner.init(&mut sink, &cancel).await,
        Err(TofuError::Failed { .. })
    ));
    assert!(!events.lock().unwrap().iter().any(|e| matches!(
        e,
        TofuEvent::Log {
            source: LogSource::Runner,
            ..
        }
    )));
}

#[tokio::test]
async fn provider_errors_surface_as_diagnostics_with_the_hetzner_code() {
    let (url, _api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    for (mode, code, address) in [
        (
            "quota",
            "resource_limit_exceeded",
            "hcloud_server.control_plane[\"fsn1-cp1\"]",
        ),
        ("uniqueness", "uniqueness_error", "hcloud_ssh_key.admin[0]"),
        ("readonly", "token_readonly", "hcloud_ssh_key.admin[0]"),
    ] {
        let r = rig(&url, &m, &[("CATALYST_FAKE_TOFU_FAIL", mode)]);
        let cancel = CancelHandle::new();
        let (events, mut sink) = collect();
        r.runner.init(&mut sink, &cancel).await.unwrap();
        r.runner.plan(&mut sink, &cancel).await.unwrap();
        match r.runner.apply(&mut sink, &cancel).await {
            Err(TofuError::Failed {
                command,
                summary,
                exit,
            }) => {
                assert_eq!((command.as_str(), exit), ("apply", 1));
                assert!(
                    summary.contains(code) && summary.starts_with(address),
                    "{mode}: {summary}"
                );
            }
            other => panic!("{mode}: {other:?}"),
        }
        let evs = events.lock().unwrap();
        assert!(
            evs.iter()
                .any(|e| matches!(e, TofuEvent::Diagnostic { diagnostic }
            if diagnostic.severity == Severity::Error && diagnostic.address.as_deref() == Some(address)))
        );
        assert!(
            evs.iter()
                .any(|e| matches!(e, TofuEvent::ResourceErrored { address: a, .. } if a == address))
        );
    }
}

#[tokio::test]
async fn missing_binary_gives_the_install_hint_and_old_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = locate::find(None, Some(dir.path()), Some(dir.path().as_os_str())).unwrap_err();
    assert!(matches!(e, TofuError::NotFound));
    assert!(e.to_string().contains("Install OpenTofu 1.8 or newer"), "{e}");
    let e = locate::locate(Some(&dir.path().join("tofu"))).await.unwrap_err();
    assert!(matches!(e, TofuError::ConfiguredPathMissing(_)), "{e}");

    let ok = locate::check(&fake_tofu()).await.unwrap();
    assert_eq!(ok.version, "1.10.5");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (v, accepted) in [("1.7.3", false), ("1.8.0", true)] {
            let wrapper = dir.path().join(format!("tofu-{v}"));
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\nCATALYST_FAKE_TOFU_VERSION={v} exec '{}' \"$@\"\n",
                    fake_tofu().display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
            match locate::check(&wrapper).await {
                Ok(b) => assert!(accepted, "{v} accepted: {b:?}"),
                Err(TofuError::TooOld { found, .. }) => {
                    assert!(!accepted, "{v} refused");
                    assert_eq!(found, v);
                }
                Err(other) => panic!("{other}"),
            }
        }
    }
}

#[tokio::test]
async fn init_json_only_where_tofu_has_it() {
    let (url, _api) = start_api().await;
    let m = inputs(Topology::Solo, false, 0);
    let cancel = CancelHandle::new();
    // The oldest OpenTofu the app accepts already has `init -json` (1.7+):
    // the runner passes it, and init's version message comes back typed.
    let r = rig(&url, &m, &[]);
    let binary = TofuBinary {
        path: fake_tofu().display().to_string(),
        version: "1.8.0".into(),
        engine: EngineKind::OpenTofu,
    };
    let mut env = ChildEnv::default();
    env.set("CATALYST_FAKE_TOFU_VERSION", "1.8.0");
    let runner = Runner::new(binary, &r.work, env);
    let (events, mut sink) = collect();
    runner.init(&mut sink, &cancel).await.unwrap();
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, TofuEvent::Version { .. }))
    );
    // Before 1.7 the flag does not exist: a binary that says 1.6 does not get
    // it (the stand-in at 1.6 would reject it).
    let binary = TofuBinary {
        path: fake_tofu().display().to_string(),
        version: "1.6.2".into(),
        engine: EngineKind::OpenTofu,
    };
    let mut env = ChildEnv::default();
    env.set("CATALYST_FAKE_TOFU_VERSION", "1.6.2");
    let runner = Runner::new(binary, &r.work, env.clone());
    let (events, mut sink) = collect();
    runner.init(&mut sink, &cancel).await.unwrap();
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .all(|e| !matches!(e, TofuEvent::Version { .. }))
    );
    // And the stand-in at 1.6 does reject it, so the check above can fail.
    let binary = TofuBinary {
        path: fake_tofu().display().to_string(),
        version: "1.7.0".into(),
        engine: EngineKind::OpenTofu,
    };
    let runner = Runner::new(binary, &r.work, env);
    let (_e, mut sink) = collect();
    match runner.init(&mut sink, &cancel).await {
        Err(TofuError::Failed { summary, .. }) => {
            assert!(summary.contains("flag provided but not defined: -json"))
        }
        other => panic!("1.6 was given -json and accepted it: {other:?}"),
    }
}

#[test]
fn the_stand_in_says_in_its_help_that_it_stands_in_for_opentofu() {
    let out = std::process::Command::new(fake_tofu())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("stands in for OpenTofu"));
}
