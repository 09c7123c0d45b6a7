//! A demo run through the engine API, as the window and the CLI start it:
//! every phase in order, events numbered and on disk before they are sent,
//! cancel and resume, and a run found `running` at start is `interrupted`.
//! Time is paused (tokio test-util), so the simulated delays cost nothing.

use catalyst_provisioner::engine::domain::DomainCheckArgs;
use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::provision::{IdArgs, StartArgs};
use catalyst_provisioner::engine::store::deployments::{DemoScenario, DeploymentRecord, RunStatus};
use catalyst_provisioner::engine::wipe::WipeArgs;
use catalyst_provisioner::engine::wizard::Step;
use catalyst_provisioner::engine::{Engine, ErrorCode, Paths, ValidateArgs};
use catalyst_tests::support::{demo_answers, events, events_since, record};

async fn wait_status(engine: &Engine, id: &str, want: RunStatus) -> DeploymentRecord {
    for _ in 0..100_000 {
        let r = record(engine, id).await;
        if r.status == want {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{id} never reached {want:?}");
}

/// Starts a ×60 demo run of valid answers (telling `scenario`) and returns its id.
async fn start_demo(engine: &Engine, scenario: Option<DemoScenario>) -> String {
    let args = StartArgs {
        answers: demo_answers(engine, "omantel-prod").await,
        scenario,
        speed: Some(60.0),
    };
    engine.provision_start(args).await.unwrap().id
}

fn id_args(id: &str) -> IdArgs {
    IdArgs { id: id.to_owned() }
}

#[tokio::test(start_paused = true)]
async fn a_demo_run_goes_through_every_phase_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let mut live = engine.events().subscribe();
    let a = demo_answers(&engine, "omantel-prod").await;
    let started = engine
        .provision_start(StartArgs {
            answers: a,
            scenario: None,
            speed: Some(60.0),
        })
        .await
        .unwrap();
    let id = started.id.clone();
    assert!(started.demo);
    let rec = wait_status(&engine, &id, RunStatus::Done).await;
    assert_eq!(
        rec.outputs.console_url.as_deref(),
        Some("https://console.omantel-prod.omani.works")
    );

    let evs = events(&engine, &id).await;
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
    // (Compared by seq and phase: floats may differ in the last bit after the round trip through events.jsonl.)
    let key = |v: &[ProvisionEvent]| v.iter().map(|e| (e.seq, e.phase)).collect::<Vec<_>>();
    assert!(
        key(&seen) == key(&evs),
        "live stream and file differ: {} vs {} events",
        seen.len(),
        evs.len()
    );
    // A reader can resume from any seq.
    let tail = events_since(&engine, &id, 100).await;
    assert_eq!(tail.first().map(|e| e.seq), Some(101));
}

#[tokio::test(start_paused = true)]
async fn quota_exceeded_stops_at_apply_with_a_hint_and_resume_retries_that_phase() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let id = start_demo(&engine, Some(DemoScenario::QuotaExceeded)).await;
    let rec = wait_status(&engine, &id, RunStatus::Failed).await;
    let failure = rec.failure.expect("a failed run says why");
    assert_eq!(failure.phase, Phase::TofuApply);
    assert!(
        failure.error.contains("resource_limit_exceeded"),
        "{}",
        failure.error
    );
    assert!(failure.hint.contains("Resume"), "{}", failure.hint);
    // Resume starts again at the failed phase (the scenario fails again, the same way).
    engine.provision_resume(id_args(&id)).await.unwrap();
    wait_status(&engine, &id, RunStatus::Failed).await;
    let evs = events(&engine, &id).await;
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
    let id = start_demo(&engine, None).await;
    // Let it reach the apply, then cancel.
    while record(&engine, &id).await.phase != Some(Phase::TofuApply) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    engine.provision_cancel(id_args(&id)).await.unwrap();
    let r = wait_status(&engine, &id, RunStatus::Cancelled).await;
    assert_eq!(r.phase, Some(Phase::TofuApply));
    // A second run for the same name is refused while... none is running now, so resume works.
    engine.provision_resume(id_args(&id)).await.unwrap();
    wait_status(&engine, &id, RunStatus::Done).await;
}

#[tokio::test(start_paused = true)]
async fn a_run_left_running_is_interrupted_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let engine = Engine::new(Paths::under(dir.path()), true);
        let id = start_demo(&engine, None).await;
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        id
        // The engine is dropped mid-run: like a closed app, the record says `running`.
    };
    let engine = Engine::new(Paths::under(dir.path()), true);
    assert_eq!(record(&engine, &id).await.status, RunStatus::Interrupted);
    let list = engine.deployments_list().await.unwrap();
    assert_eq!(list[0].status, Some(RunStatus::Interrupted));
}

#[tokio::test]
async fn invalid_answers_are_refused_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let a = engine.wizard_defaults().await.unwrap();
    let err = engine
        .provision_start(StartArgs {
            answers: a,
            scenario: None,
            speed: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidAnswers);
    assert_eq!(err.field.as_deref(), Some("organisation.name"));
    let list = engine.deployments_list().await.unwrap();
    assert_eq!(list.len(), 0, "nothing is created for refused answers");
}

#[tokio::test]
async fn a_taken_pool_name_is_refused_at_start_whatever_the_answers_claim() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    // "acme" is held in the demo pool; the answers claim PDM said it is free.
    let mut a = demo_answers(&engine, "acme").await;
    let mut forged = engine
        .domain_check(DomainCheckArgs {
            pool: "omani.works".into(),
            subdomain: "free-one".into(),
        })
        .await
        .unwrap();
    forged.fqdn = "acme.omani.works".into();
    forged.subdomain = "acme".into();
    a.domain.availability = Some(forged);
    let v = engine
        .wizard_validate(ValidateArgs {
            step: Step::Domain,
            answers: a.clone(),
        })
        .await
        .unwrap();
    assert_eq!(v, [], "validation alone trusts the copied answer");
    let err = engine
        .provision_start(StartArgs {
            answers: a,
            scenario: None,
            speed: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidAnswers);
    assert_eq!(err.field.as_deref(), Some("domain.subdomain"));
    assert!(
        err.message
            .contains("\"acme.omani.works\" is already used by a live Sovereign"),
        "{}",
        err.message
    );
    assert_eq!(engine.deployments_list().await.unwrap().len(), 0);
}

#[tokio::test(start_paused = true)]
async fn wipe_needs_the_typed_fqdn_removes_what_the_run_created_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Paths::under(dir.path()), true);
    let id = start_demo(&engine, None).await;
    wait_status(&engine, &id, RunStatus::Done).await;
    let wipe = |confirm: &str| WipeArgs {
        id: id.clone(),
        confirm: confirm.into(),
        converging_ok: false,
    };
    let err = engine
        .deployment_wipe(wipe("omantel-prod.omani.work"))
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("confirm"));
    assert_eq!(record(&engine, &id).await.status, RunStatus::Done);
    let report = engine
        .deployment_wipe(wipe("omantel-prod.omani.works"))
        .await
        .unwrap();
    assert!(report.clean, "{report:?}");
    let evs = events(&engine, &id).await;
    let created = evs
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Resource { state, .. } if state == "created"))
        .count();
    assert_eq!(report.deleted.len(), created);
    assert_eq!(record(&engine, &id).await.status, RunStatus::Wiped);
    assert!(
        dir.path()
            .join("data/deployments")
            .join(&id)
            .join("wipe-report.json")
            .exists()
    );
}
