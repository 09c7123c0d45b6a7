use super::*;
use serde_json::json;

/// A status with a Ready condition and, optionally, others (type, status, reason, message).
fn status(ready: Option<(&str, &str, &str)>, observed: Option<i64>) -> Value {
    with(ready, observed, &[])
}

fn with(
    ready: Option<(&str, &str, &str)>,
    observed: Option<i64>,
    more: &[(&str, &str, &str, &str)],
) -> Value {
    let mut s = json!({});
    if let Some(o) = observed {
        s["observedGeneration"] = json!(o);
    }
    let mut conditions: Vec<Value> = more
        .iter()
        .map(|(t, st, r, m)| json!({"type": t, "status": st, "reason": r, "message": m}))
        .collect();
    if let Some((st, reason, message)) = ready {
        conditions.push(json!({"type": "Ready", "status": st, "reason": reason, "message": message}));
    }
    if !conditions.is_empty() {
        s["conditions"] = json!(conditions);
    }
    s
}

fn release(generation: Option<i64>, st: Option<&Value>) -> (ComponentState, String) {
    let (state, message, _) = derive_release(generation, st);
    (state, message)
}

#[test]
fn helmrelease_state_table() {
    use ComponentState::*;
    let dep = "dependency 'flux-system/bp-cilium' is not ready";
    type Case<'a> = (&'a str, Option<i64>, Option<Value>, ComponentState, &'a str);
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("no status at all", Some(1), None, Pending, "waiting for helm-controller"),
        ("status without conditions", Some(1), Some(json!({"observedGeneration": 1})), Pending, "waiting for helm-controller"),
        ("conditions not a list", Some(1), Some(json!({"conditions": "Ready"})), Pending, "waiting for helm-controller"),
        ("Ready True, current", Some(2), Some(status(Some(("True", "InstallSucceeded", "Helm install succeeded")), Some(2))), Installed, "Helm install succeeded"),
        ("Ready Unknown", Some(1), Some(status(Some(("Unknown", "Progressing", "Running 'install'")), Some(1))), Installing, "Running 'install'"),
        ("dependency not ready", Some(1), Some(status(Some(("False", "DependencyNotReady", dep)), Some(1))), Pending, dep),
        ("DependencyNotReady other text", Some(1), Some(status(Some(("False", "DependencyNotReady", "deps")), Some(1))), Pending, "deps"),
        ("odd status value", Some(1), Some(status(Some(("Maybe", "", "")), Some(1))), Pending, ""),
        ("Ready True for an older generation", Some(3), Some(status(Some(("True", "UpgradeSucceeded", "ok")), Some(2))), Installing, "waiting for the controller to act on generation 3 (it reported on 2)"),
        ("Ready True, no observedGeneration anywhere", Some(1), Some(status(Some(("True", "InstallSucceeded", "ok")), None)), Installing, "waiting for the controller to report on generation 1"),
        ("Ready True, no generation to compare", None, Some(status(Some(("True", "InstallSucceeded", "ok")), None)), Installed, "ok"),
        ("stale failure still counts as failure", Some(3), Some(status(Some(("False", "InstallFailed", "f")), Some(2))), Failed, "f"),
    ];
    for (what, generation, st, want, msg) in cases {
        assert_eq!(
            release(generation, st.as_ref()),
            (want, msg.to_string()),
            "{what}"
        );
    }
    let per_condition = json!({"conditions": [
        {"type": "Ready", "status": "True", "reason": "InstallSucceeded", "message": "ok", "observedGeneration": 4}
    ]});
    assert_eq!(release(Some(4), Some(&per_condition)).0, Installed);
}

/// Every reason helm-controller ends a reconcile with on Ready=False, one
/// row each: what it means for the watch. From helm-controller's api/v2 and
/// v2beta2 condition types, internal/controller and internal/reconcile.
#[test]
fn each_helm_controller_reason() {
    use ComponentState::*;
    #[rustfmt::skip]
    let cases: [(&str, ComponentState); 26] = [
        // A fix is needed (no retry under way).
        ("InstallFailed", Failed), ("UpgradeFailed", Failed), ("TestFailed", Failed),
        ("RollbackFailed", Failed), ("UninstallFailed", Failed), ("ArtifactFailed", Failed),
        ("InitFailed", Failed), ("GetLastReleaseFailed", Failed), ("ChartPullError", Failed),
        ("ChartLoadError", Failed), ("InvalidCELExpression", Failed), ("AccessDenied", Failed),
        ("RetriesExceeded", Failed),
        // Under way, or waiting on something that comes by itself.
        ("Progressing", Installing), ("ProgressingWithRetry", Installing), ("ReconcileStarted", Installing),
        ("SourceNotReady", Installing), ("HealthCheckCanceled", Installing), ("DriftDetected", Installing),
        ("DependencyNotReady", Pending),
        // Controller-side errors retried with backoff.
        ("ValuesError", Degraded), ("ChartMutateError", Degraded), ("RESTClientError", Degraded),
        ("ResourceManagerError", Degraded), ("StateError", Degraded), ("ReconcileError", Degraded),
    ];
    for (reason, want) in cases {
        let st = status(Some(("False", reason, "the controller's message")), Some(1));
        let (state, message, got_reason) = derive_release(Some(1), Some(&st));
        assert_eq!(state, want, "{reason}");
        assert_eq!(message, "the controller's message", "{reason}");
        assert_eq!(got_reason, reason);
    }
    for reason in TERMINAL_RELEASE_REASONS {
        assert!(
            cases.iter().any(|(r, s)| *r == reason && *s == Failed),
            "{reason} has a row"
        );
    }
}

#[test]
fn a_failure_the_controller_retries_is_degraded_not_failed() {
    // Remediation retries left: Reconciling=True ProgressingWithRetry beside Ready=False.
    let st = with(
        Some((
            "False",
            "InstallFailed",
            "Helm install failed: timed out waiting for the condition",
        )),
        Some(1),
        &[("Reconciling", "True", "ProgressingWithRetry", "retrying")],
    );
    assert_eq!(
        release(Some(1), Some(&st)),
        (
            ComponentState::Degraded,
            "Helm install failed: timed out waiting for the condition (helm-controller retries)".into()
        )
    );
    // A remediation under way (rollback) after a failed upgrade.
    let st = with(
        Some(("False", "UpgradeFailed", "upgrade failed")),
        Some(1),
        &[("Reconciling", "True", "Progressing", "Running 'rollback' action")],
    );
    assert_eq!(release(Some(1), Some(&st)).0, ComponentState::Degraded);
    // The chart's source is not there yet: helm-controller requeues.
    let st = status(
        Some((
            "False",
            "ArtifactFailed",
            "Source not ready: artifact not found. Retrying in 5s",
        )),
        Some(1),
    );
    assert_eq!(release(Some(1), Some(&st)).0, ComponentState::Installing);
}

#[test]
fn stalled_is_failed_whatever_ready_says() {
    for (reason, message) in [
        ("RetriesExceeded", "Failed to install after 1 attempt(s)"),
        (
            "MissingRollbackTarget",
            "Failed to perform remediation: no previous release",
        ),
        ("InvalidCELExpression", "invalid CEL expression"),
        ("AccessDenied", "cross-namespace references are not allowed"),
    ] {
        let st = with(
            Some((
                "False",
                "InstallFailed",
                "Helm install failed for release x: context deadline exceeded",
            )),
            Some(1),
            &[("Stalled", "True", reason, message)],
        );
        let (state, msg, got) = derive_release(Some(1), Some(&st));
        assert_eq!(state, ComponentState::Failed, "{reason}");
        assert_eq!(got, reason);
        assert_eq!(
            msg,
            format!("{message}: Helm install failed for release x: context deadline exceeded")
        );
    }
    // Stalled=False is not a stall.
    let st = with(
        Some(("Unknown", "Progressing", "p")),
        Some(1),
        &[("Stalled", "False", "", "")],
    );
    assert_eq!(release(Some(1), Some(&st)).0, ComponentState::Installing);
}

#[test]
fn kustomization_state_table() {
    use ComponentState::*;
    #[rustfmt::skip]
    let cases: Vec<(Option<Value>, ComponentState)> = vec![
        (None, Pending),
        (Some(status(Some(("True", "ReconciliationSucceeded", "Applied revision: main@sha1:abc")), Some(1))), Installed),
        (Some(status(Some(("Unknown", "Progressing", "Reconciliation in progress")), Some(1))), Installing),
        (Some(status(Some(("False", "HealthCheckFailed", "timeout waiting for: [HelmRelease/flux-system/bp-cilium]")), Some(1))), Degraded),
        (Some(status(Some(("False", "ReconciliationFailed", "no matches for kind ClusterIssuer")), Some(1))), Degraded),
        (Some(status(Some(("False", "PruneFailed", "p")), Some(1))), Degraded),
        (Some(status(Some(("False", "BuildFailed", "kustomization path not found")), Some(1))), Failed),
        (Some(status(Some(("False", "InvalidCELExpression", "c")), Some(1))), Failed),
        (Some(status(Some(("False", "ArtifactFailed", "Source artifact not found, retrying in 30s")), Some(1))), Pending),
        (Some(status(Some(("False", "DependencyNotReady", "dependency not ready")), Some(1))), Pending),
        (Some(status(Some(("False", "HealthCheckCanceled", "h")), Some(1))), Installing),
        (Some(with(Some(("False", "ReconciliationFailed", "r")), Some(1), &[("Stalled", "True", "FeatureGateDisabled", "gate off")])), Failed),
        (Some(status(Some(("True", "ReconciliationSucceeded", "old")), Some(1))), Installed),
    ];
    for (st, want) in cases {
        assert_eq!(derive_kustomization(Some(1), st.as_ref()).0, want, "{st:?}");
    }
    let old = status(Some(("True", "ReconciliationSucceeded", "old")), Some(1));
    assert_eq!(derive_kustomization(Some(2), Some(&old)).0, Installing);
}

#[test]
fn dependencies_are_read_with_their_namespace() {
    let spec = json!({"dependsOn": [{"name": "bp-cilium"}, {"name": "bp-cert-manager", "namespace": "infra"}, {"namespace": "x"}]});
    assert_eq!(
        depends_on(Some(&spec), "flux-system"),
        vec![
            ("flux-system".to_string(), "bp-cilium".to_string()),
            ("infra".to_string(), "bp-cert-manager".to_string())
        ]
    );
    assert!(depends_on(None, "flux-system").is_empty());
    assert!(depends_on(Some(&json!({"dependsOn": "bp-cilium"})), "flux-system").is_empty());
}

#[test]
fn hints_name_the_release_and_fit_the_reason() {
    let h = failure_hint("bp-keycloak", "flux-system", "ChartPullError");
    assert!(
        h.contains("could not be fetched")
            && h.contains("flux reconcile helmrelease bp-keycloak -n flux-system"),
        "{h}"
    );
    assert!(failure_hint("bp-x", "ns", "TestFailed").contains("tests failed"));
    assert!(failure_hint("bp-x", "ns", "RetriesExceeded").contains("describe helmrelease bp-x"));
}

#[test]
fn names_and_terminal_states() {
    assert_eq!(component_name("bp-cilium"), "cilium");
    assert_eq!(component_name("cilium"), "cilium");
    assert_eq!(component_name("bp-"), "");
    assert!(ComponentState::Installed.is_terminal() && ComponentState::Failed.is_terminal());
    assert!(ComponentState::Blocked.is_terminal());
    assert!(!ComponentState::Degraded.is_terminal() && !ComponentState::Pending.is_terminal());
    assert!(
        !ComponentState::Removed.is_terminal(),
        "a deleted release may be created again"
    );
    assert_eq!(
        serde_json::to_string(&ComponentState::Installing).unwrap(),
        "\"installing\""
    );
}
