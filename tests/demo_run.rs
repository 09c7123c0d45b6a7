//! A demo run through the engine API, as the window and the CLI start it:
//! every phase in order, events numbered and on disk before they are sent,
//! cancel and resume, and a run found `running` at start is `interrupted`.
//! Time is paused (tokio test-util), so the simulated delays cost nothing.

use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::{Engine, Paths};
use catalyst_tests::support::{call, demo_answers};
use serde_json::{Value, json};

async fn wait_status(engine: &Engine, id: &str, want: &str) -> Value {
    for _ in 0..100_000 {
        let r = call(engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
            .await
            .unwrap();
        if r["status"] == want {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{id} never reached {want}");
}

/// Starts a ×60 demo run of valid answers (plus `extra` args) and returns its id.
async fn start_demo(engine: &Engine, extra: Value) -> String {
    let mut args = json!({"answers": demo_answers(engine, "omantel-prod").await, "speed": 60});
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    let s = call(engine, json!({"cmd": "provision_start", "args": args}))
        .await
        .unwrap();
    s["id"].as_str().unwrap().to_owned()
}

fn events(v: Value) -> Vec<ProvisionEvent> {
    serde_json::from_value(v).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_demo_run_goes_through_every_phase_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let mut live = engine.events().subscribe();
    let a = demo_answers(&engine, "omantel-prod").await;
    let started = call(
        &engine,
        json!({"cmd": "provision_start", "args": {"answers": a, "speed": 60}}),
    )
    .await
    .unwrap();
    let id = started["id"].as_str().unwrap().to_owned();
    assert!(started["demo"].as_bool().unwrap());
    let rec = wait_status(&engine, &id, "done").await;
    assert_eq!(
        rec["outputs"]["console_url"],
        "https://console.omantel-prod.omani.works"
    );

    let evs = events(
        call(
            &engine,
            json!({"cmd": "deployment_events", "args": {"id": id, "since_seq": 0}}),
        )
        .await
        .unwrap(),
    );
    // seq strictly increasing from 1.
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    let started: Vec<Phase> = evs
        .iter()
        .filter(|e| e.kind == EventKind::PhaseStarted)
        .map(|e| e.phase)
        .collect();
    assert_eq!(
        started,
        catalyst_provisioner::engine::provision::phases::PHASES.to_vec()
    );
    let finished = evs
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseFinished { .. }))
        .count();
    assert_eq!(finished, 10);
    assert!(matches!(evs.last().unwrap().kind, EventKind::Done { .. }));
    // Resources appeared during apply, components went pending → installing → installed.
    assert!(evs.iter().any(|e| e.phase == Phase::TofuApply
        && matches!(&e.kind, EventKind::Resource { state, .. } if state == "created")));
    let cilium: Vec<&str> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Component { name, state, .. } if name == "cilium" => Some(state.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cilium, ["pending", "installing", "installed"]);
    // The live stream carried the same events as the file, in the same order.
    let mut seen = Vec::new();
    while let Ok(e) = live.try_recv() {
        if e.deployment_id == id {
            seen.push(e);
        }
    }
    // (Compared by seq and phase: floats may differ in the last bit after a JSON round trip.)
    let key = |v: &[ProvisionEvent]| v.iter().map(|e| (e.seq, e.phase)).collect::<Vec<_>>();
    assert!(
        key(&seen) == key(&evs),
        "live stream and file differ: {} vs {} events",
        seen.len(),
        evs.len()
    );
    // A reader can resume from any seq.
    let tail = events(
        call(
            &engine,
            json!({"cmd": "deployment_events", "args": {"id": id, "since_seq": 100}}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(tail.first().map(|e| e.seq), Some(101));
}

#[tokio::test(start_paused = true)]
async fn quota_exceeded_stops_at_apply_with_a_hint_and_resume_retries_that_phase() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let id = start_demo(&engine, json!({"scenario": "quota_exceeded"})).await;
    let rec = wait_status(&engine, &id, "failed").await;
    assert_eq!(rec["failure"]["phase"], "tofu_apply");
    assert!(
        rec["failure"]["error"]
            .as_str()
            .unwrap()
            .contains("resource_limit_exceeded")
    );
    assert!(rec["failure"]["hint"].as_str().unwrap().contains("Resume"));
    // Resume starts again at the failed phase (the scenario fails again, the same way).
    call(&engine, json!({"cmd": "provision_resume", "args": {"id": id}}))
        .await
        .unwrap();
    wait_status(&engine, &id, "failed").await;
    let evs = events(
        call(
            &engine,
            json!({"cmd": "deployment_events", "args": {"id": id, "since_seq": 0}}),
        )
        .await
        .unwrap(),
    );
    let starts: Vec<Phase> = evs
        .iter()
        .filter(|e| e.kind == EventKind::PhaseStarted)
        .map(|e| e.phase)
        .collect();
    assert_eq!(
        starts.iter().filter(|p| **p == Phase::Preflight).count(),
        1,
        "resume does not redo done phases"
    );
    assert_eq!(starts.last(), Some(&Phase::TofuApply));
}

#[tokio::test(start_paused = true)]
async fn cancel_stops_the_run_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let id = start_demo(&engine, json!({})).await;
    // Let it reach the apply, then cancel.
    loop {
        let r = call(&engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
            .await
            .unwrap();
        if r["phase"] == "tofu_apply" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    call(&engine, json!({"cmd": "provision_cancel", "args": {"id": id}}))
        .await
        .unwrap();
    let r = wait_status(&engine, &id, "cancelled").await;
    assert_eq!(r["phase"], "tofu_apply");
    // A second run for the same name is refused while... none is running now, so resume works.
    call(&engine, json!({"cmd": "provision_resume", "args": {"id": id}}))
        .await
        .unwrap();
    wait_status(&engine, &id, "done").await;
}

#[tokio::test(start_paused = true)]
async fn a_run_left_running_is_interrupted_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let engine = Engine::new(Paths::under(dir.path()), true);
        let id = start_demo(&engine, json!({})).await;
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        id
        // The engine is dropped mid-run: like a closed app, the record says `running`.
    };
    let engine = Engine::new(Paths::under(dir.path()), true);
    let r = call(&engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
        .await
        .unwrap();
    assert_eq!(r["status"], "interrupted");
    let list = call(&engine, json!({"cmd": "deployments_list"})).await.unwrap();
    assert_eq!(list[0]["status"], "interrupted");
}

#[tokio::test]
async fn invalid_answers_are_refused_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let a = call(&engine, json!({"cmd": "wizard_defaults"})).await.unwrap();
    let err = call(&engine, json!({"cmd": "provision_start", "args": {"answers": a}}))
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_answers");
    assert_eq!(err.field.as_deref(), Some("organisation.name"));
    let list = call(&engine, json!({"cmd": "deployments_list"})).await.unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "nothing is created for refused answers"
    );
}

#[tokio::test]
async fn a_taken_pool_name_is_refused_at_start_whatever_the_answers_claim() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    // "acme" is held in the demo pool; the answers claim PDM said it is free.
    let mut a = demo_answers(&engine, "acme").await;
    let mut forged = call(
        &engine,
        json!({"cmd": "domain_check", "args": {"pool": "omani.works", "subdomain": "free-one"}}),
    )
    .await
    .unwrap();
    forged["fqdn"] = json!("acme.omani.works");
    forged["subdomain"] = json!("acme");
    a["domain"]["availability"] = forged;
    let v = call(
        &engine,
        json!({"cmd": "wizard_validate", "args": {"step": "domain", "answers": a}}),
    )
    .await
    .unwrap();
    assert_eq!(v, json!([]), "validation alone trusts the copied answer");
    let err = call(&engine, json!({"cmd": "provision_start", "args": {"answers": a}}))
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_answers");
    assert_eq!(err.field.as_deref(), Some("domain.subdomain"));
    assert!(
        err.message
            .contains("\"acme.omani.works\" is already used by a live Sovereign"),
        "{}",
        err.message
    );
    let list = call(&engine, json!({"cmd": "deployments_list"})).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
}

#[tokio::test(start_paused = true)]
async fn wipe_needs_the_typed_fqdn_removes_what_the_run_created_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let id = start_demo(&engine, json!({})).await;
    wait_status(&engine, &id, "done").await;
    let err = call(
        &engine,
        json!({"cmd": "deployment_wipe", "args": {"id": id, "confirm": "omantel-prod.omani.work"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("confirm"));
    assert_eq!(
        call(&engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
            .await
            .unwrap()["status"],
        "done"
    );
    let report = call(
        &engine,
        json!({"cmd": "deployment_wipe", "args": {"id": id, "confirm": "omantel-prod.omani.works"}}),
    )
    .await
    .unwrap();
    assert_eq!(report["clean"], true);
    let evs = events(
        call(
            &engine,
            json!({"cmd": "deployment_events", "args": {"id": id, "since_seq": 0}}),
        )
        .await
        .unwrap(),
    );
    let created = evs
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Resource { state, .. } if state == "created"))
        .count();
    assert_eq!(report["deleted"].as_array().unwrap().len(), created);
    assert_eq!(
        call(&engine, json!({"cmd": "deployment_get", "args": {"id": id}}))
            .await
            .unwrap()["status"],
        "wiped"
    );
    assert!(
        dir.path()
            .join("data/deployments")
            .join(&id)
            .join("wipe-report.json")
            .exists()
    );
}
