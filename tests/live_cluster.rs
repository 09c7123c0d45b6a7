//! The cluster side of a live run through the engine API (tests/
//! inproc_rig.rs: the doubles, a real sshd, the real engine where one is
//! configured): a HelmRelease that fails for good while three others wait
//! on it ends the "Install the platform components" phase within seconds,
//! not at its hour-long limit, naming the failed release, its message, what
//! it blocks, and a hint for its reason. A DUAL run follows cloud-init and
//! Flux in both regions (each its own sshd) and writes a kubeconfig with a
//! context per region; when region 2's cloud-init fails, the run fails
//! naming region 2, and once it is fixed a resume takes both regions to Done.

use std::time::{Duration, Instant};

use catalyst_provisioner::engine::events::{EventKind, Phase};
use catalyst_provisioner::engine::provision::phases::expected_releases;
use catalyst_provisioner::engine::wizard::WizardAnswers;
use catalyst_provisioner::engine::wizard::model::{Region, Topology};
use catalyst_tests::fakes::hetzner::FakeConfig;
use catalyst_tests::fakes::kube::{Action, ready};
use catalyst_tests::fakes::sshd::CloudInitScript;
use catalyst_tests::inproc_rig::Rig;
use catalyst_tests::support::{events, seconds_of_day, start_run, wait_end, wizard_answers_typed};
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

    let started = start_run(&rig.engine, a).await.unwrap();
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

/// The wizard's answers, made DUAL: fsn1 and hel1, one control plane each.
fn dual(mut a: WizardAnswers) -> WizardAnswers {
    a.topology = Topology::Dual;
    let first = a.regions[0].clone();
    a.regions.truncate(1);
    a.regions.push(Region {
        location: "hel1".into(),
        ..first
    });
    a
}

fn tagged(evs: &[catalyst_provisioner::engine::events::ProvisionEvent], phase: Phase, tag: &str) -> usize {
    evs.iter()
        .filter(|e| {
            e.phase == phase && matches!(&e.kind, EventKind::Log { line, .. } if line.starts_with(tag))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dual_run_follows_both_regions_to_done_with_a_kubeconfig_context_each() {
    let rig = Rig::start_in(FakeConfig::default(), &["fsn1", "hel1"]).await;
    let (a, key) = wizard_answers_typed(&rig.engine, "dual-done").await;
    let a = dual(a);
    let expected = expected_releases(&a.components);
    rig.kube.converged(&expected);
    let started = start_run(&rig.engine, a)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = started.id.clone();
    let (_one, _) = rig.boot_control_plane(&id, &key.public_openssh).await;
    let (_two, _) = rig
        .boot_region(
            &id,
            &key.public_openssh,
            "hel1",
            CloudInitScript::successful(Duration::from_millis(20)),
        )
        .await;
    let record = wait_end(&rig.paths, &id, 240).await;
    assert_eq!(record["status"], "done", "{}", record["failure"]);

    let regions = record["outputs"]["regions"].as_array().unwrap();
    let locations: Vec<&str> = regions.iter().map(|r| r["location"].as_str().unwrap()).collect();
    assert_eq!(locations, ["fsn1", "hel1"]);
    for r in regions {
        assert!(r["control_plane_ips"][0].is_string(), "{r}");
        let own = std::fs::read_to_string(r["kubeconfig_path"].as_str().unwrap()).unwrap();
        let own: serde_json::Value = serde_yaml_ng::from_str(&own).unwrap();
        assert_eq!(own["current-context"], r["location"]);
    }
    let merged = std::fs::read_to_string(record["outputs"]["kubeconfig_path"].as_str().unwrap()).unwrap();
    let merged: serde_json::Value = serde_yaml_ng::from_str(&merged).unwrap();
    let contexts: Vec<&str> = merged["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["fsn1", "hel1"]);
    assert_eq!(merged["current-context"], "fsn1");

    // Each region was followed and watched; the second's lines and components say so.
    let evs = events(&rig.engine, &id).await;
    let counts: Vec<(String, usize, usize, usize)> = ["fsn1", "hel1"]
        .iter()
        .map(|loc| {
            let tag = format!("[{loc}] ");
            let components = evs
                .iter()
                .filter(|e| match &e.kind {
                    EventKind::Component { name, state, .. } if state == "installed" => {
                        if *loc == "fsn1" {
                            !name.contains('/')
                        } else {
                            name.starts_with(&format!("{loc}/"))
                        }
                    }
                    _ => false,
                })
                .count();
            (
                loc.to_string(),
                tagged(&evs, Phase::CloudInit, &tag),
                tagged(&evs, Phase::Kubeconfig, &tag),
                components,
            )
        })
        .collect();
    let per_region: Vec<(&str, usize, usize, usize)> = ["fsn1", "hel1"]
        .iter()
        .map(|loc| {
            let mine = |p: Phase| {
                evs.iter()
                    .filter(|e| e.phase == p && e.region.as_deref() == Some(*loc))
                    .count()
            };
            (
                *loc,
                mine(Phase::CloudInit),
                mine(Phase::Kubeconfig),
                mine(Phase::Bootstrap),
            )
        })
        .collect();
    println!(
        "events per region (location, cloud-init lines, kubeconfig lines, components installed): {counts:?}; \
         events marked with their region (location, cloud-init, kubeconfig, bootstrap): {per_region:?}; {} events in all",
        evs.len()
    );
    // The regions are followed at once: each cluster phase starts in both
    // before it is done in either, and ends done in both.
    for phase in [Phase::CloudInit, Phase::Kubeconfig, Phase::Bootstrap] {
        let states: Vec<(String, String)> = evs
            .iter()
            .filter(|e| e.phase == phase)
            .filter_map(|e| match &e.kind {
                EventKind::Region { state, .. } => {
                    Some((e.region.clone().unwrap_or_default(), state.clone()))
                }
                _ => None,
            })
            .collect();
        let first_done = states.iter().position(|(_, s)| s == "done");
        let running: Vec<&str> = states
            .iter()
            .take(first_done.unwrap_or(0))
            .filter(|(_, s)| s == "running")
            .map(|(r, _)| r.as_str())
            .collect();
        assert_eq!(running, ["fsn1", "hel1"], "{phase:?}: {states:?}");
        let mut done: Vec<&str> = states
            .iter()
            .filter(|(_, s)| s == "done")
            .map(|(r, _)| r.as_str())
            .collect();
        done.sort();
        assert_eq!(done, ["fsn1", "hel1"], "{phase:?}: {states:?}");
    }
    for (loc, cloud_init, _, bootstrap) in &per_region {
        assert!(
            *cloud_init >= 10 && *bootstrap >= expected.len(),
            "{loc}: {per_region:?}"
        );
    }
    for (loc, cloud_init, kubeconfig, components) in &counts {
        assert!(*cloud_init >= 10, "{loc}: {cloud_init} cloud-init lines");
        assert!(*kubeconfig >= 2, "{loc}: {kubeconfig} kubeconfig lines");
        // Each region's cluster got its own network's name with the token.
        let stored = format!(
            "[{loc}] Stored the cluster's Hetzner credentials (the provisioning token; network catalyst-dual-done-omani-works-{loc}-net)"
        );
        assert!(
            evs.iter()
                .any(|e| matches!(&e.kind, EventKind::Log { line, .. } if line.starts_with(&stored))),
            "{stored}"
        );
        assert_eq!(*components, expected.len(), "{loc}");
    }
    assert!(matches!(
        evs.last().map(|e| &e.kind),
        Some(EventKind::Done { .. })
    ));
    assert_eq!(rig.hetzner.inventory().count("servers"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dual_run_whose_second_region_fails_cloud_init_fails_naming_region_2_and_resumes_to_done() {
    let rig = Rig::start_in(FakeConfig::default(), &["fsn1", "hel1"]).await;
    let (a, key) = wizard_answers_typed(&rig.engine, "dual-fails").await;
    let a = dual(a);
    rig.kube.converged(&expected_releases(&a.components));
    let started = start_run(&rig.engine, a)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = started.id.clone();
    let (_one, _) = rig.boot_control_plane(&id, &key.public_openssh).await;
    let (_two, _) = rig
        .boot_region(
            &id,
            &key.public_openssh,
            "hel1",
            CloudInitScript::failing(Duration::from_millis(20)),
        )
        .await;
    let record = wait_end(&rig.paths, &id, 240).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "cloud_init");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(error.starts_with("In region 2 (hel1): "), "{error}");
    let evs = events(&rig.engine, &id).await;
    assert!(tagged(&evs, Phase::CloudInit, "[hel1] ") > 0);
    // Both regions were followed at once: region 2 failed, region 1 either
    // finished first or was stopped because region 2 failed.
    let last_state = |loc: &str| {
        evs.iter()
            .rev()
            .find_map(|e| match &e.kind {
                EventKind::Region { state, detail }
                    if e.phase == Phase::CloudInit && e.region.as_deref() == Some(loc) =>
                {
                    Some((state.clone(), detail.clone()))
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no region state for {loc}"))
    };
    let (state, detail) = last_state("hel1");
    assert_eq!(state, "failed");
    assert!(detail.starts_with("In region 2 (hel1): "), "{detail}");
    let (state, detail) = last_state("fsn1");
    assert!(
        state == "done" || (state == "stopped" && detail == "Stopped: region 2 failed."),
        "{state}: {detail}"
    );
    println!("region 1 (fsn1) when region 2 failed: {state}: {detail}");

    // Fixed and resumed: both regions are followed again from cloud-init, and the run is done.
    rig.engine
        .provision_resume(catalyst_provisioner::engine::provision::IdArgs { id: id.clone() })
        .await
        .unwrap();
    drop(_two);
    let (_two, _) = rig
        .boot_region(
            &id,
            &key.public_openssh,
            "hel1",
            CloudInitScript::successful(Duration::from_millis(20)),
        )
        .await;
    let record = wait_end(&rig.paths, &id, 240).await;
    assert_eq!(record["status"], "done", "{}", record["failure"]);
    let merged = std::fs::read_to_string(record["outputs"]["kubeconfig_path"].as_str().unwrap()).unwrap();
    let merged: serde_json::Value = serde_yaml_ng::from_str(&merged).unwrap();
    assert_eq!(merged["contexts"].as_array().unwrap().len(), 2);
    let evs = events(&rig.engine, &id).await;
    let hel1_done = evs
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Log { line, .. } if line.starts_with("[hel1] cloud-init finished")))
        .count();
    assert_eq!(hel1_done, 1, "region 2's cloud-init finished on the resume only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ha_run_waits_for_its_peers_and_fails_naming_the_one_that_never_became_ready() {
    let rig = Rig::start_with(
        FakeConfig::default(),
        &["fsn1"],
        json!({"node_join_timeout_s": 3}),
    )
    .await;
    let (mut a, key) = wizard_answers_typed(&rig.engine, "ha-join").await;
    a.ha = true;
    rig.kube.converged(&expected_releases(&a.components));
    // Every server joins, but the third control plane's kubelet never gets Ready.
    let servers = rig.hetzner.server_names();
    rig.kube.nodes_from(move || {
        servers()
            .into_iter()
            .map(|n| {
                let ready = !n.ends_with("-cp3");
                (n, ready)
            })
            .collect()
    });
    let started = start_run(&rig.engine, a)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = started.id.clone();
    let (_cp, _) = rig.boot_control_plane(&id, &key.public_openssh).await;
    let record = wait_end(&rig.paths, &id, 240).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "bootstrap");
    assert_eq!(
        rig.hetzner.inventory().count("servers"),
        3,
        "three control planes were created"
    );
    let error = record["failure"]["error"].as_str().unwrap();
    let prefix = "catalyst-ha-join-omani-works-fsn1";
    assert_eq!(
        error,
        format!(
            "2 of 3 nodes joined the cluster within 3 s; not joined: {prefix}-cp3 (registered, not Ready: \
             KubeletNotReady: container runtime network not ready: cni plugin not initialized)"
        )
    );
    assert!(
        record["failure"]["hint"]
            .as_str()
            .unwrap()
            .contains("cloud-init-output.log")
    );
    let evs = events(&rig.engine, &id).await;
    let joined: Vec<&str> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { source, line, .. } if source == "k3s" => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        joined,
        [
            format!("Node {prefix}-cp1 joined and is Ready (1 of 3)."),
            format!("Node {prefix}-cp2 joined and is Ready (2 of 3)."),
        ],
        "{joined:?}"
    );
    let started_at = evs
        .iter()
        .find(|e| e.phase == Phase::Bootstrap && matches!(e.kind, EventKind::PhaseStarted))
        .map(|e| seconds_of_day(&e.at))
        .unwrap();
    let failed_at = evs
        .iter()
        .find(|e| e.phase == Phase::Bootstrap && matches!(e.kind, EventKind::PhaseFailed { .. }))
        .map(|e| seconds_of_day(&e.at))
        .unwrap();
    println!(
        "the HA run's bootstrap failed {} ms after it started (join limit 3 s): {error}",
        ((failed_at - started_at) * 1000.0).round()
    );

    // Its kubelet fixed, a resume waits for the three and ends done.
    rig.kube.nodes_are_servers(rig.hetzner.server_names());
    rig.engine
        .provision_resume(catalyst_provisioner::engine::provision::IdArgs { id: id.clone() })
        .await
        .unwrap();
    let record = wait_end(&rig.paths, &id, 240).await;
    assert_eq!(record["status"], "done", "{}", record["failure"]);
    let evs = events(&rig.engine, &id).await;
    assert!(
        evs.iter().any(
            |e| matches!(&e.kind, EventKind::Log { line, .. } if line.starts_with("3 nodes Ready after "))
        ),
        "the resume saw all three Ready"
    );
}
