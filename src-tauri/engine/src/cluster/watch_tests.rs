use super::*;
use serde_json::json;

fn release(name: &str, generation: i64, ready: Option<(&str, &str)>) -> DynamicObject {
    let mut obj = DynamicObject::new(name, &helmrelease_resource()).within("flux-system");
    obj.metadata.generation = Some(generation);
    if let Some((status, reason)) = ready {
        obj.data = json!({"status": {"observedGeneration": generation, "conditions": [
            {"type": "Ready", "status": status, "reason": reason, "message": reason}
        ]}});
    }
    obj
}

fn state(expected: &[&str]) -> State {
    State::new(expected.iter().map(|s| s.to_string()).collect())
}

#[test]
fn done_only_when_every_expected_release_is_terminal() {
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push(e);
    let mut st = state(&["cilium", "cert-manager"]);
    assert!(!st.all_terminal(), "nothing listed is not done");
    handle(Source::Release, Event::Init, &mut st, &mut sink);
    handle(Source::Release, Event::InitDone, &mut st, &mut sink);
    assert!(!st.all_terminal());
    let ok = release("bp-cilium", 1, Some(("True", "InstallSucceeded")));
    handle(Source::Release, Event::Apply(ok.clone()), &mut st, &mut sink);
    assert!(!st.all_terminal(), "one of two expected");
    // Repeating an unchanged object emits nothing.
    handle(Source::Release, Event::Apply(ok), &mut st, &mut sink);
    let other = release("bp-unrelated", 1, Some(("Unknown", "Progressing")));
    handle(Source::Release, Event::Apply(other), &mut st, &mut sink);
    let failed = release("bp-cert-manager", 1, Some(("False", "InstallFailed")));
    handle(Source::Release, Event::Apply(failed), &mut st, &mut sink);
    assert!(st.all_terminal());
    let s = st.summary(Duration::from_secs(1));
    assert_eq!(s.outcome, WatchOutcome::Failed);
    let names: Vec<_> = s.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cilium", "cert-manager", "unrelated"]);
    assert_eq!(events.len(), 3);
    let err = s.into_result().unwrap_err();
    assert_eq!(err.to_string(), "cert-manager failed: InstallFailed");
    assert!(
        err.hint().contains("describe helmrelease bp-cert-manager"),
        "{}",
        err.hint()
    );
}

fn after(mut obj: DynamicObject, deps: &[&str]) -> DynamicObject {
    let deps: Vec<_> = deps.iter().map(|d| json!({"name": d})).collect();
    obj.data["spec"] = json!({"dependsOn": deps});
    obj
}

fn apply(st: &mut State, obj: DynamicObject, events: &mut Vec<WatchEvent>) {
    handle(Source::Release, Event::Apply(obj), st, &mut |e| events.push(e));
}

#[test]
fn a_failure_blocks_its_dependents_at_once_and_ends_the_watch() {
    let mut events = Vec::new();
    let mut st = state(&["cilium", "cert-manager", "keycloak", "openbao", "gitea", "pdns"]);
    apply(
        &mut st,
        release("bp-cilium", 1, Some(("True", "InstallSucceeded"))),
        &mut events,
    );
    apply(
        &mut st,
        after(
            release("bp-cert-manager", 1, Some(("Unknown", "Progressing"))),
            &["bp-cilium"],
        ),
        &mut events,
    );
    // keycloak and openbao wait on cert-manager; gitea on keycloak (transitively).
    for (name, deps) in [
        ("bp-keycloak", vec!["bp-cert-manager"]),
        ("bp-openbao", vec!["bp-cert-manager", "bp-cilium"]),
        ("bp-gitea", vec!["bp-keycloak"]),
    ] {
        apply(
            &mut st,
            after(release(name, 1, Some(("False", "DependencyNotReady"))), &deps),
            &mut events,
        );
    }
    apply(
        &mut st,
        release("bp-pdns", 1, Some(("Unknown", "Progressing"))),
        &mut events,
    );
    apply(
        &mut st,
        after(
            release("bp-cert-manager", 1, Some(("False", "InstallFailed"))),
            &["bp-cilium"],
        ),
        &mut events,
    );
    for name in ["keycloak", "openbao", "gitea"] {
        let c = st.component(name).unwrap();
        assert_eq!(
            (c.state, c.message.as_str()),
            (ComponentState::Blocked, "blocked by cert-manager, which failed"),
            "{name}"
        );
    }
    assert!(
        !st.all_terminal(),
        "pdns does not depend on it and still installs"
    );
    apply(
        &mut st,
        release("bp-pdns", 1, Some(("True", "InstallSucceeded"))),
        &mut events,
    );
    assert!(st.all_terminal(), "nothing can progress any more");
    let err = st.summary(Duration::from_secs(1)).into_result().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cert-manager failed: InstallFailed. Blocked by it: keycloak, openbao, gitea"
    );
    // A fix unblocks them: cert-manager installs, the others wait on it again.
    apply(
        &mut st,
        after(
            release("bp-cert-manager", 1, Some(("True", "InstallSucceeded"))),
            &["bp-cilium"],
        ),
        &mut events,
    );
    assert_eq!(st.component("keycloak").unwrap().state, ComponentState::Pending);
    assert_eq!(st.component("gitea").unwrap().state, ComponentState::Pending);
}

#[test]
fn a_dependency_cycle_is_not_a_failure_and_does_not_loop() {
    let mut events = Vec::new();
    let mut st = state(&["a", "b"]);
    apply(
        &mut st,
        after(
            release("bp-a", 1, Some(("False", "DependencyNotReady"))),
            &["bp-b"],
        ),
        &mut events,
    );
    apply(
        &mut st,
        after(
            release("bp-b", 1, Some(("False", "DependencyNotReady"))),
            &["bp-a"],
        ),
        &mut events,
    );
    assert_eq!(st.component("a").unwrap().state, ComponentState::Pending);
    assert!(!st.all_terminal());
    // A dependency that does not exist (yet) blocks nothing.
    apply(
        &mut st,
        after(
            release("bp-a", 1, Some(("False", "DependencyNotReady"))),
            &["bp-missing"],
        ),
        &mut events,
    );
    assert_eq!(st.component("a").unwrap().state, ComponentState::Pending);
}

#[test]
fn a_kustomization_that_cannot_build_ends_the_watch_naming_it() {
    let mut events = Vec::new();
    let mut st = state(&["cilium", "keycloak"]);
    apply(
        &mut st,
        release("bp-cilium", 1, Some(("True", "InstallSucceeded"))),
        &mut events,
    );
    assert!(!st.all_terminal());
    let mut ks = DynamicObject::new("bootstrap-kit", &kustomization_resource()).within("flux-system");
    ks.metadata.generation = Some(1);
    ks.data = json!({"status": {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build failed: accumulating resources"}
    ]}});
    handle(Source::Kustomization, Event::Apply(ks), &mut st, &mut |e| {
        events.push(e)
    });
    assert!(st.all_terminal(), "keycloak will not be created");
    let s = st.summary(Duration::from_secs(1));
    let keycloak = s.components.iter().find(|c| c.name == "keycloak").unwrap();
    assert_eq!(keycloak.state, ComponentState::Blocked);
    let err = s.into_result().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Kustomization bootstrap-kit failed: kustomize build failed: accumulating resources. Blocked by it: keycloak"
    );
    assert!(
        err.hint().contains("flux reconcile kustomization bootstrap-kit"),
        "{}",
        err.hint()
    );
}

#[test]
fn a_relist_drops_releases_that_vanished() {
    let mut events = Vec::new();
    let mut sink = |e: WatchEvent| events.push(e);
    let mut st = state(&["cilium"]);
    handle(
        Source::Release,
        Event::Apply(release("bp-cilium", 1, Some(("True", "x")))),
        &mut st,
        &mut sink,
    );
    assert!(st.all_terminal());
    handle(Source::Release, Event::Init, &mut st, &mut sink);
    handle(Source::Release, Event::InitDone, &mut st, &mut sink);
    assert!(!st.all_terminal());
    assert_eq!(
        st.pending(),
        vec!["cilium (removed: its HelmRelease was deleted)".to_string()]
    );
    match events.last().unwrap() {
        WatchEvent::Component { update } => assert_eq!(update.state, ComponentState::Removed),
        e => panic!("unexpected {e:?}"),
    }
    // Created again, it counts again.
    handle(
        Source::Release,
        Event::Apply(release("bp-cilium", 1, Some(("True", "x")))),
        &mut st,
        &mut |_| {},
    );
    assert!(st.all_terminal());
    assert!(st.removed.is_empty());
}

#[tokio::test]
async fn an_empty_expectation_is_refused_not_ready() {
    let mut sink = |_: WatchEvent| {};
    let e = watch_releases(
        "",
        vec![" ".into(), "bp-".into()],
        &mut sink,
        &CancellationToken::new(),
        &WatchOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(e, ClusterError::NothingExpected);
}
