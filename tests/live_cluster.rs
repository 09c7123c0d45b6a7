//! The cluster side of a live run through the engine API (tests/
//! inproc_rig.rs: the doubles, a real sshd, the real engine where one is
//! configured): a HelmRelease that fails for good while three others wait
//! on it ends the "Install the platform components" phase within seconds,
//! not at its hour-long limit, naming the failed release, its message, what
//! it blocks, and a hint for its reason.

use std::time::{Duration, Instant};

use catalyst_provisioner::engine::events::{EventKind, Phase};
use catalyst_provisioner::engine::provision::StartArgs;
use catalyst_provisioner::engine::provision::phases::expected_releases;
use catalyst_tests::fakes::hetzner::FakeConfig;
use catalyst_tests::fakes::kube::{Action, ready};
use catalyst_tests::inproc_rig::Rig;
use catalyst_tests::support::{events, wait_end, wizard_answers_typed};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_release_ends_the_bootstrap_phase_within_seconds_naming_it_and_what_it_blocks() {
    let rig = Rig::start(FakeConfig::default()).await;
    let (a, key) = wizard_answers_typed(&rig.engine, "flux-fails").await;
    let expected = expected_releases(&a.components);
    assert!(expected.iter().any(|r| r == "cert-manager"), "{expected:?}");
    // Everything installs but cert-manager (its retries exhausted: Stalled)
    // and three releases that wait on it, one of them through another.
    let waiting = ["keycloak", "openbao", "gitea"];
    for r in &expected {
        if r == "cert-manager" || waiting.contains(&r.as_str()) {
            continue;
        }
        rig.kube.apply(&Action::release(
            &format!("bp-{r}"),
            1,
            Some(ready("True", "InstallSucceeded", "Helm install succeeded", 1)),
        ));
    }
    let not_ready = |dep: &str| {
        Some(ready(
            "False",
            "DependencyNotReady",
            &format!("dependency 'flux-system/{dep}' is not ready"),
            1,
        ))
    };
    rig.kube.apply(&Action::release_after(
        "bp-keycloak",
        &["bp-cert-manager"],
        1,
        not_ready("bp-cert-manager"),
    ));
    rig.kube.apply(&Action::release_after(
        "bp-openbao",
        &["bp-cert-manager"],
        1,
        not_ready("bp-cert-manager"),
    ));
    rig.kube.apply(&Action::release_after(
        "bp-gitea",
        &["bp-keycloak"],
        1,
        not_ready("bp-keycloak"),
    ));
    rig.kube.apply(&Action::release(
        "bp-cert-manager",
        1,
        Some(ready(
            "Unknown",
            "Progressing",
            "Running 'install' action with timeout of 5m0s",
            1,
        )),
    ));

    let started = rig
        .engine
        .provision_start(StartArgs {
            answers: a,
            scenario: None,
            speed: None,
        })
        .await
        .unwrap();
    let id = started.id.clone();
    let (_sshd, _) = rig.boot_control_plane(&id, &key.public_openssh).await;

    // cert-manager fails once the watch is on: helm-controller gave up.
    let bootstrap_started = loop {
        let evs = events(&rig.engine, &id).await;
        if evs
            .iter()
            .any(|e| e.phase == Phase::Bootstrap && matches!(e.kind, EventKind::PhaseStarted))
        {
            break Instant::now();
        }
        assert!(
            !evs.iter()
                .any(|e| matches!(e.kind, EventKind::PhaseFailed { .. })),
            "the run failed before the platform install: {evs:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    rig.kube.apply(&Action::Put {
        kind: catalyst_tests::fakes::kube::Kind::HelmRelease,
        namespace: "flux-system".into(),
        name: "bp-cert-manager".into(),
        generation: 1,
        status: Some(json!({
            "observedGeneration": 1,
            "conditions": [
                {"type": "Stalled", "status": "True", "reason": "RetriesExceeded", "message": "Failed to install after 1 attempt(s)"},
                {"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "Helm install failed for release flux-system/bp-cert-manager: context deadline exceeded"}
            ]
        })),
        depends_on: vec![],
    });
    let failed_at = Instant::now();
    let record = wait_end(&rig.paths, &id, 60).await;
    let took = failed_at.elapsed();
    println!(
        "failed release → phase failed: {} ms (bootstrap ran {} ms; its limit is 3600 s)",
        took.as_millis(),
        bootstrap_started.elapsed().as_millis()
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "bootstrap");
    assert_eq!(record["failure"]["code"], "components_failed");
    let error = record["failure"]["error"].as_str().unwrap();
    // The blocked ones in the order the components are listed.
    let blocked: Vec<&str> = expected
        .iter()
        .map(String::as_str)
        .filter(|r| waiting.contains(r))
        .collect();
    assert_eq!(
        error,
        format!(
            "cert-manager failed: Failed to install after 1 attempt(s): Helm install failed for release flux-system/bp-cert-manager: context deadline exceeded. Blocked by it: {}",
            blocked.join(", ")
        )
    );
    let hint = record["failure"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("flux reconcile helmrelease bp-cert-manager -n flux-system --force"),
        "{hint}"
    );
    // The page showed each dependent as blocked by it, with the reason.
    let evs = events(&rig.engine, &id).await;
    for name in waiting {
        let last = evs
            .iter()
            .rev()
            .find_map(|e| match &e.kind {
                EventKind::Component {
                    name: n,
                    state,
                    message,
                } if n == name => Some((state.clone(), message.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            last,
            (
                "blocked".to_string(),
                "blocked by cert-manager, which failed".to_string()
            ),
            "{name}"
        );
    }
}
