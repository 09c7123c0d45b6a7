//! The Phase-1 watch against a fake Kubernetes API (tests/fakes/kube.rs)
//! whose Flux objects change on a script: all releases installed, one
//! failed, none ever appearing (first-seen warning, then a timeout naming
//! what is pending), a release that turns Ready only after a while (and a
//! stale Ready=True before it) is never reported installed early, and an API
//! that refuses the credentials.

use std::time::{Duration, Instant};

use catalyst_provisioner::engine::ApiError;
use catalyst_provisioner::engine::cluster::{
    ClusterError, ComponentState, WatchEvent, WatchOptions, WatchOutcome, watch_releases,
};
use catalyst_tests::fakes::kube::{Action, FakeKube, ready};
use tokio_util::sync::CancellationToken;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn options(first_seen: Duration, overall: Duration) -> WatchOptions {
    WatchOptions {
        first_seen_timeout: first_seen,
        overall_timeout: overall,
        ..WatchOptions::default()
    }
}

fn expected(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The component updates for `name`, in order, with when they arrived.
fn updates_of(events: &[(Instant, WatchEvent)], name: &str) -> Vec<(Instant, ComponentState, String)> {
    events
        .iter()
        .filter_map(|(at, e)| match e {
            WatchEvent::Component { update } if update.name == name => {
                Some((*at, update.state, update.message.clone()))
            }
            _ => None,
        })
        .collect()
}

fn progressing(gen_: i64) -> Option<serde_json::Value> {
    Some(ready(
        "Unknown",
        "Progressing",
        "Running 'install' action with timeout of 10m0s",
        gen_,
    ))
}

fn installed(gen_: i64) -> Option<serde_json::Value> {
    Some(ready(
        "True",
        "InstallSucceeded",
        "Helm install succeeded for release x",
        gen_,
    ))
}

#[tokio::test]
async fn all_releases_installed_ends_ready() {
    let kube = FakeKube::start().await;
    kube.play(vec![
        (
            ms(0),
            "ks",
            Action::kustomization(
                "bootstrap-kit",
                1,
                Some(ready("Unknown", "Progressing", "Reconciliation in progress", 1)),
            ),
        ),
        (ms(150), "cilium appears", Action::release("bp-cilium", 1, None)),
        (
            ms(0),
            "cert-manager appears",
            Action::release("bp-cert-manager", 1, None),
        ),
        (ms(0), "flux appears", Action::release("bp-flux", 1, None)),
        (
            ms(150),
            "cilium installing",
            Action::release("bp-cilium", 1, progressing(1)),
        ),
        (
            ms(300),
            "cilium installed",
            Action::release("bp-cilium", 1, installed(1)),
        ),
        (
            ms(150),
            "cert-manager installed",
            Action::release("bp-cert-manager", 1, installed(1)),
        ),
        (
            ms(150),
            "flux installed",
            Action::release("bp-flux", 1, installed(1)),
        ),
    ]);
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push((Instant::now(), e));
    let started = Instant::now();
    let summary = watch_releases(
        &kube.kubeconfig(),
        expected(&["bp-cilium", "bp-cert-manager", "flux"]),
        &mut sink,
        &CancellationToken::new(),
        &options(Duration::from_secs(10), Duration::from_secs(20)),
    )
    .await
    .unwrap();
    let done_at = Instant::now();
    assert_eq!(summary.outcome, WatchOutcome::Ready);
    let names: Vec<_> = summary
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.state))
        .collect();
    assert_eq!(
        names,
        [
            ("cilium", ComponentState::Installed),
            ("cert-manager", ComponentState::Installed),
            ("flux", ComponentState::Installed),
        ]
    );
    assert!(summary.components.iter().all(|c| c.namespace == "flux-system"));

    let applied = kube.applied();
    let last_applied = applied.last().unwrap().0;
    assert!(
        done_at >= last_applied,
        "finished before the last release was installed"
    );

    let cilium: Vec<_> = updates_of(&events, "cilium")
        .into_iter()
        .map(|(_, s, _)| s)
        .collect();
    assert_eq!(
        cilium,
        [
            ComponentState::Pending,
            ComponentState::Installing,
            ComponentState::Installed
        ]
    );
    // Watch latency: from the fake's change to the update in the sink.
    let mut lat = Vec::new();
    for (label, name) in [
        ("cilium installed", "cilium"),
        ("cert-manager installed", "cert-manager"),
        ("flux installed", "flux"),
    ] {
        let put = applied.iter().find(|(_, l)| l == label).unwrap().0;
        let got = updates_of(&events, name)
            .into_iter()
            .find(|(_, s, _)| *s == ComponentState::Installed)
            .unwrap()
            .0;
        assert!(got >= put, "{name} reported installed before it was");
        lat.push(got - put);
    }
    lat.sort();
    assert!(*lat.last().unwrap() < Duration::from_secs(1), "{lat:?}");
    eprintln!(
        "watch: ready {:?} after start, {:?} after the last change; update latency median {:?} max {:?}",
        done_at - started,
        done_at - last_applied,
        lat[1],
        lat[2]
    );
    assert!(events.iter().any(|(_, e)| matches!(e, WatchEvent::Kustomization { update } if update.name == "bootstrap-kit" && update.state == ComponentState::Installing)));
    // The watch used the namespaced HelmRelease API and watched it.
    let reqs = kube.requests();
    assert!(
        reqs.iter().any(|r| r
            .starts_with("GET /apis/helm.toolkit.fluxcd.io/v2/namespaces/flux-system/helmreleases?")
            && r.contains("watch=true")),
        "{reqs:?}"
    );
    assert!(
        reqs.iter()
            .any(|r| r.contains("fieldSelector=metadata.name=bootstrap-kit")),
        "{reqs:?}"
    );
}

#[tokio::test]
async fn one_failed_release_is_reported_failed_with_its_message() {
    let kube = FakeKube::start().await;
    let why = "Helm install failed for release flux-system/bp-cert-manager with chart cert-manager@1.16.2: context deadline exceeded";
    kube.play(vec![
        (ms(100), "cilium", Action::release("bp-cilium", 1, installed(1))),
        (
            ms(100),
            "cert-manager installing",
            Action::release("bp-cert-manager", 1, progressing(1)),
        ),
        (
            ms(300),
            "cert-manager failed",
            Action::release(
                "bp-cert-manager",
                1,
                Some(ready("False", "InstallFailed", why, 1)),
            ),
        ),
    ]);
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push((Instant::now(), e));
    let summary = watch_releases(
        &kube.kubeconfig(),
        expected(&["cilium", "cert-manager"]),
        &mut sink,
        &CancellationToken::new(),
        &options(Duration::from_secs(10), Duration::from_secs(20)),
    )
    .await
    .unwrap();
    assert_eq!(summary.outcome, WatchOutcome::Failed);
    let failed = summary.failed();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].name.as_str(), failed[0].message.as_str()),
        ("cert-manager", why)
    );
    let last = updates_of(&events, "cert-manager").pop().unwrap();
    assert_eq!((last.1, last.2.as_str()), (ComponentState::Failed, why));
    let err = summary.into_result().unwrap_err();
    let api: ApiError = err.into();
    assert_eq!(api.code, "components_failed");
    assert!(
        api.message.contains(&format!("Cert-manager failed: {why}")),
        "{}",
        api.message
    );
}

#[tokio::test]
async fn nothing_appearing_warns_at_first_seen_then_times_out_naming_what_is_missing() {
    let kube = FakeKube::start().await;
    kube.apply(&Action::kustomization(
        "bootstrap-kit",
        1,
        Some(ready(
            "False",
            "ArtifactFailed",
            "Source artifact not found, retrying in 30s",
            1,
        )),
    ));
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push((Instant::now(), e));
    let started = Instant::now();
    let err = watch_releases(
        &kube.kubeconfig(),
        expected(&["bp-cilium", "bp-flux"]),
        &mut sink,
        &CancellationToken::new(),
        &options(ms(1000), ms(2500)),
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert!(took >= ms(2500) && took < ms(5000), "{took:?}");
    let warnings: Vec<_> = events
        .iter()
        .filter_map(|(at, e)| match e {
            WatchEvent::Warning { message } => Some((*at - started, message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let (at, message) = &warnings[0];
    assert!(*at >= ms(1000) && *at < ms(2000), "warned at {at:?}");
    assert!(
        message.contains("No expected HelmRelease has appeared in flux-system"),
        "{message}"
    );
    assert!(
        message.contains("kubectl -n flux-system get gitrepository,kustomization"),
        "{message}"
    );
    assert!(
        message.contains("bootstrap-kit is pending: Source artifact not found"),
        "{message}"
    );
    match &err {
        ClusterError::FluxNotReconciling {
            expected,
            kustomization,
            ..
        } => {
            assert_eq!(expected, &["cilium".to_string(), "flux".to_string()]);
            assert_eq!(
                kustomization.as_deref(),
                Some("pending: Source artifact not found, retrying in 30s")
            );
        }
        other => panic!("expected flux_not_reconciling, got {other:?}"),
    }
    assert_eq!(err.code(), "flux_not_reconciling");
    assert!(err.to_string().contains("cilium, flux"));
}

#[tokio::test]
async fn a_partial_appearance_times_out_listing_each_pending_release() {
    let kube = FakeKube::start().await;
    kube.apply(&Action::release("bp-cilium", 1, installed(1)));
    kube.apply(&Action::release(
        "bp-keycloak",
        1,
        Some(ready(
            "False",
            "DependencyNotReady",
            "dependency 'flux-system/bp-cnpg' is not ready",
            1,
        )),
    ));
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push(e);
    let err = watch_releases(
        &kube.kubeconfig(),
        expected(&["cilium", "keycloak", "cnpg"]),
        &mut sink,
        &CancellationToken::new(),
        &options(ms(500), ms(1500)),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ClusterError::ReleasesTimeout {
            waited_s: 1,
            pending: vec![
                "keycloak (pending: dependency 'flux-system/bp-cnpg' is not ready)".into(),
                "cnpg (never appeared)".into(),
            ],
        }
    );
    // Releases did appear, so no first-seen warning.
    assert!(
        !events.iter().any(|e| matches!(e, WatchEvent::Warning { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_release_ready_only_later_is_never_reported_installed_early() {
    let kube = FakeKube::start().await;
    kube.play(vec![
        (ms(0), "appears", Action::release("bp-openbao", 1, progressing(1))),
        (ms(0), "other", Action::release("bp-cilium", 1, installed(1))),
        // A spec change (generation 2) while the status still says Ready for
        // generation 1: helm-controller has not acted on it yet.
        (
            ms(800),
            "stale ready",
            Action::release("bp-openbao", 2, installed(1)),
        ),
        (
            ms(700),
            "upgrading",
            Action::release(
                "bp-openbao",
                2,
                Some(ready("Unknown", "Progressing", "Running 'upgrade' action", 2)),
            ),
        ),
        (
            ms(700),
            "really ready",
            Action::release(
                "bp-openbao",
                2,
                Some(ready("True", "UpgradeSucceeded", "Helm upgrade succeeded", 2)),
            ),
        ),
    ]);
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push((Instant::now(), e));
    let summary = watch_releases(
        &kube.kubeconfig(),
        expected(&["openbao", "cilium"]),
        &mut sink,
        &CancellationToken::new(),
        &options(Duration::from_secs(10), Duration::from_secs(20)),
    )
    .await
    .unwrap();
    let done_at = Instant::now();
    let really = kube
        .applied()
        .iter()
        .find(|(_, l)| l == "really ready")
        .unwrap()
        .0;
    assert!(done_at >= really);
    assert_eq!(summary.outcome, WatchOutcome::Ready);
    let openbao = updates_of(&events, "openbao");
    let states: Vec<_> = openbao.iter().map(|(_, s, _)| *s).collect();
    assert_eq!(
        states,
        [
            ComponentState::Installing,
            ComponentState::Installing,
            ComponentState::Installing,
            ComponentState::Installed
        ]
    );
    assert_eq!(
        openbao[1].2,
        "waiting for the controller to act on generation 2 (it reported on 1)"
    );
    for (at, state, _) in &openbao {
        if *state == ComponentState::Installed {
            assert!(*at >= really, "reported installed before the release was");
        }
    }
}

#[tokio::test]
async fn refused_credentials_warn_and_end_as_unreachable() {
    let kube = FakeKube::start().await;
    kube.apply(&Action::release("bp-cilium", 1, installed(1)));
    let bad = kube
        .kubeconfig()
        .replace("token: fake-kube-token", "token: wrong-token");
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push(e);
    let err = watch_releases(
        &bad,
        expected(&["cilium"]),
        &mut sink,
        &CancellationToken::new(),
        &options(ms(5000), ms(1500)),
    )
    .await
    .unwrap_err();
    match &err {
        ClusterError::KubeApiUnreachable { last_error, .. } => assert!(
            last_error.contains("401") || last_error.to_lowercase().contains("unauthorized"),
            "{last_error}"
        ),
        other => panic!("expected kube_api_unreachable, got {other:?}"),
    }
    let warnings: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, WatchEvent::Warning { .. }))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per distinct error: {warnings:?}");
    assert!(!events.iter().any(|e| matches!(e, WatchEvent::Component { .. })));
}

#[tokio::test]
async fn cancel_ends_the_watch_promptly() {
    let kube = FakeKube::start().await;
    kube.apply(&Action::release("bp-cilium", 1, progressing(1)));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(ms(300)).await;
        trigger.cancel();
    });
    let mut sink = |_: WatchEvent| {};
    let started = Instant::now();
    let err = watch_releases(
        &kube.kubeconfig(),
        expected(&["cilium"]),
        &mut sink,
        &cancel,
        &WatchOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err, ClusterError::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// One release fails and three wait on it (two directly, one through
/// another): the watch ends within seconds of the failure, with a limit of
/// an hour, naming the failed release, its message and what it blocks.
#[tokio::test]
async fn a_failed_release_blocks_its_dependents_and_ends_the_watch_at_once() {
    let kube = FakeKube::start().await;
    let why = "Failed to install after 1 attempt(s): Helm install failed for release flux-system/bp-cert-manager: context deadline exceeded";
    let stalled = Some(serde_json::json!({
        "observedGeneration": 1,
        "conditions": [
            {"type": "Stalled", "status": "True", "reason": "RetriesExceeded", "message": "Failed to install after 1 attempt(s)"},
            {"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "Helm install failed for release flux-system/bp-cert-manager: context deadline exceeded"}
        ]
    }));
    let waiting = |dep: &str| {
        Some(ready(
            "False",
            "DependencyNotReady",
            &format!("dependency 'flux-system/{dep}' is not ready"),
            1,
        ))
    };
    kube.play(vec![
        (ms(50), "cilium", Action::release("bp-cilium", 1, installed(1))),
        (ms(0), "pdns", Action::release("bp-powerdns", 1, progressing(1))),
        (
            ms(0),
            "cert-manager",
            Action::release_after("bp-cert-manager", &["bp-cilium"], 1, progressing(1)),
        ),
        (
            ms(0),
            "keycloak",
            Action::release_after("bp-keycloak", &["bp-cert-manager"], 1, waiting("bp-cert-manager")),
        ),
        (
            ms(0),
            "openbao",
            Action::release_after(
                "bp-openbao",
                &["bp-cert-manager", "bp-cilium"],
                1,
                waiting("bp-cert-manager"),
            ),
        ),
        (
            ms(0),
            "gitea",
            Action::release_after("bp-gitea", &["bp-keycloak"], 1, waiting("bp-keycloak")),
        ),
        (
            ms(200),
            "pdns installed",
            Action::release("bp-powerdns", 1, installed(1)),
        ),
        (
            ms(300),
            "cert-manager failed",
            Action::release_after("bp-cert-manager", &["bp-cilium"], 1, stalled),
        ),
    ]);
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push((Instant::now(), e));
    let summary = watch_releases(
        &kube.kubeconfig(),
        expected(&[
            "cilium",
            "powerdns",
            "cert-manager",
            "keycloak",
            "openbao",
            "gitea",
        ]),
        &mut sink,
        &CancellationToken::new(),
        &options(Duration::from_secs(900), Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    let ended = Instant::now();
    let failed_at = kube
        .applied()
        .into_iter()
        .find(|(_, l)| l == "cert-manager failed")
        .map(|(at, _)| at)
        .unwrap();
    let took = ended.duration_since(failed_at);
    eprintln!("failed release → watch ended: {} ms", took.as_millis());
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(summary.outcome, WatchOutcome::Failed);
    for name in ["keycloak", "openbao", "gitea"] {
        let last = updates_of(&events, name).pop().unwrap();
        assert_eq!(
            (last.1, last.2.as_str()),
            (ComponentState::Blocked, "blocked by cert-manager, which failed"),
            "{name}"
        );
    }
    let err = summary.into_result().unwrap_err();
    let hint = err.hint();
    assert_eq!(
        err.to_string(),
        format!("cert-manager failed: {why}. Blocked by it: keycloak, openbao, gitea")
    );
    let api: ApiError = err.into();
    assert_eq!(api.code, "components_failed");
    assert!(
        hint.contains("flux reconcile helmrelease bp-cert-manager -n flux-system"),
        "{hint}"
    );
}

/// A release deleted while the watch waits is "removed", and the timeout says so.
#[tokio::test]
async fn a_deleted_release_is_removed_not_never_appeared() {
    let kube = FakeKube::start().await;
    kube.play(vec![
        (ms(50), "cilium", Action::release("bp-cilium", 1, progressing(1))),
        (
            ms(200),
            "cilium deleted",
            catalyst_tests::fakes::kube::Action::Delete {
                kind: catalyst_tests::fakes::kube::Kind::HelmRelease,
                namespace: "flux-system".into(),
                name: "bp-cilium".into(),
            },
        ),
    ]);
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push((Instant::now(), e));
    let err = watch_releases(
        &kube.kubeconfig(),
        expected(&["cilium"]),
        &mut sink,
        &CancellationToken::new(),
        &options(Duration::from_secs(10), ms(1500)),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ClusterError::ReleasesTimeout {
            waited_s: 1,
            pending: vec!["cilium (removed: its HelmRelease was deleted)".into()],
        }
    );
    let last = updates_of(&events, "cilium").pop().unwrap();
    assert_eq!(last.1, ComponentState::Removed);
}
