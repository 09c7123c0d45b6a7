//! State of Flux objects, derived from their status alone (no I/O): the
//! HelmRelease states of the system this app replaces, plus
//! a staleness guard: a `Ready` condition that describes an older generation
//! than the object's current one says nothing about the current one.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    Pending,
    Installing,
    Installed,
    Degraded,
    Failed,
}

impl ComponentState {
    /// Installed or failed: the watch stops waiting for this component.
    pub fn is_terminal(self) -> bool {
        matches!(self, ComponentState::Installed | ComponentState::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Pending => "pending",
            ComponentState::Installing => "installing",
            ComponentState::Installed => "installed",
            ComponentState::Degraded => "degraded",
            ComponentState::Failed => "failed",
        }
    }
}

/// One component's state as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ComponentUpdate {
    /// The component (HelmRelease name without `bp-`).
    pub name: String,
    pub namespace: String,
    pub state: ComponentState,
    pub message: String,
}

/// Reasons after which helm-controller needs a fix, not time.
const FAILED_REASONS: [&str; 5] = [
    "InstallFailed",
    "UpgradeFailed",
    "ChartPullError",
    "ChartLoadError",
    "ArtifactFailed",
];
/// Reasons that mean work is under way.
const PROGRESS_REASONS: [&str; 3] = ["Progressing", "ReconcileStarted", "DependencyNotReady"];

/// The blueprint prefix the platform's HelmReleases carry.
pub const RELEASE_PREFIX: &str = "bp-";

/// The component a HelmRelease stands for: its name without `bp-`.
pub fn component_name(release: &str) -> &str {
    release.strip_prefix(RELEASE_PREFIX).unwrap_or(release)
}

/// A condition of `status.conditions` by type.
fn condition<'a>(status: Option<&'a Value>, kind: &str) -> Option<&'a Value> {
    status?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether the status describes an older spec than `generation`. Flux sets
/// `status.observedGeneration` (and per condition `observedGeneration`); a
/// Ready=True carried over from before a spec change must not count.
fn stale(generation: Option<i64>, status: Option<&Value>, ready: &Value) -> Option<String> {
    let generation = generation?;
    let observed = status
        .and_then(|s| s.get("observedGeneration"))
        .and_then(Value::as_i64)
        .or_else(|| ready.get("observedGeneration").and_then(Value::as_i64));
    match observed {
        Some(o) if o >= generation => None,
        Some(o) => Some(format!(
            "waiting for the controller to act on generation {generation} (it reported on {o})"
        )),
        None => Some(format!(
            "waiting for the controller to report on generation {generation}"
        )),
    }
}

/// A HelmRelease's state from `metadata.generation` and `status`.
pub fn derive_release_state(generation: Option<i64>, status: Option<&Value>) -> (ComponentState, String) {
    let Some(ready) = condition(status, "Ready") else {
        return (ComponentState::Pending, "waiting for helm-controller".into());
    };
    let message = str_field(ready, "message").to_owned();
    let reason = str_field(ready, "reason");
    let state = match str_field(ready, "status") {
        "True" => ComponentState::Installed,
        "Unknown" => ComponentState::Installing,
        "False" if message.contains("dependency '") && message.contains("' is not ready") => {
            ComponentState::Pending
        }
        "False" if FAILED_REASONS.contains(&reason) => ComponentState::Failed,
        "False" if PROGRESS_REASONS.contains(&reason) => ComponentState::Installing,
        "False" => ComponentState::Degraded,
        // A status value Kubernetes does not define: not evidence of anything.
        _ => ComponentState::Pending,
    };
    if state == ComponentState::Installed
        && let Some(why) = stale(generation, status, ready)
    {
        return (ComponentState::Installing, why);
    }
    (state, message)
}

/// The bootstrap Kustomization's state. It gates nothing (the releases do),
/// but when no release appears it says where Flux is stuck.
pub fn derive_kustomization_state(
    generation: Option<i64>,
    status: Option<&Value>,
) -> (ComponentState, String) {
    let Some(ready) = condition(status, "Ready") else {
        return (ComponentState::Pending, "waiting for kustomize-controller".into());
    };
    let message = str_field(ready, "message").to_owned();
    let state = match (str_field(ready, "status"), str_field(ready, "reason")) {
        ("True", _) => ComponentState::Installed,
        ("Unknown", _) => ComponentState::Installing,
        ("False", "DependencyNotReady") => ComponentState::Pending,
        ("False", "Progressing" | "ProgressingWithRetry") => ComponentState::Installing,
        // Health checks fail while releases are still installing; Flux retries.
        ("False", "HealthCheckFailed") => ComponentState::Degraded,
        ("False", _) => ComponentState::Failed,
        _ => ComponentState::Pending,
    };
    if state == ComponentState::Installed
        && let Some(why) = stale(generation, status, ready)
    {
        return (ComponentState::Installing, why);
    }
    (state, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(ready: Option<(&str, &str, &str)>, observed: Option<i64>) -> Value {
        let mut s = json!({});
        if let Some(o) = observed {
            s["observedGeneration"] = json!(o);
        }
        if let Some((st, reason, message)) = ready {
            s["conditions"] = json!([
                {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "x"},
                {"type": "Ready", "status": st, "reason": reason, "message": message}
            ]);
        }
        s
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
            ("InstallFailed", Some(1), Some(status(Some(("False", "InstallFailed", "timed out waiting")), Some(1))), Failed, "timed out waiting"),
            ("UpgradeFailed", Some(1), Some(status(Some(("False", "UpgradeFailed", "u")), Some(1))), Failed, "u"),
            ("ChartPullError", Some(1), Some(status(Some(("False", "ChartPullError", "p")), Some(1))), Failed, "p"),
            ("ChartLoadError", Some(1), Some(status(Some(("False", "ChartLoadError", "l")), Some(1))), Failed, "l"),
            ("ArtifactFailed", Some(1), Some(status(Some(("False", "ArtifactFailed", "a")), Some(1))), Failed, "a"),
            ("Progressing", Some(1), Some(status(Some(("False", "Progressing", "g")), Some(1))), Installing, "g"),
            ("ReconcileStarted", Some(1), Some(status(Some(("False", "ReconcileStarted", "r")), Some(1))), Installing, "r"),
            ("DependencyNotReady other text", Some(1), Some(status(Some(("False", "DependencyNotReady", "deps")), Some(1))), Installing, "deps"),
            ("other reason", Some(1), Some(status(Some(("False", "TestFailed", "tests failed")), Some(1))), Degraded, "tests failed"),
            ("odd status value", Some(1), Some(status(Some(("Maybe", "", "")), Some(1))), Pending, ""),
            ("Ready True for an older generation", Some(3), Some(status(Some(("True", "UpgradeSucceeded", "ok")), Some(2))), Installing, "waiting for the controller to act on generation 3 (it reported on 2)"),
            ("Ready True, no observedGeneration anywhere", Some(1), Some(status(Some(("True", "InstallSucceeded", "ok")), None)), Installing, "waiting for the controller to report on generation 1"),
            ("Ready True, no generation to compare", None, Some(status(Some(("True", "InstallSucceeded", "ok")), None)), Installed, "ok"),
            ("stale failure still counts as failure", Some(3), Some(status(Some(("False", "InstallFailed", "f")), Some(2))), Failed, "f"),
        ];
        for (what, generation, st, want, msg) in cases {
            let got = derive_release_state(generation, st.as_ref());
            assert_eq!(got, (want, msg.to_string()), "{what}");
        }
        let per_condition = json!({"conditions": [
            {"type": "Ready", "status": "True", "reason": "InstallSucceeded", "message": "ok", "observedGeneration": 4}
        ]});
        assert_eq!(derive_release_state(Some(4), Some(&per_condition)).0, Installed);
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
            (Some(status(Some(("False", "BuildFailed", "kustomization path not found")), Some(1))), Failed),
            (Some(status(Some(("False", "ArtifactFailed", "Source artifact not found")), Some(1))), Failed),
            (Some(status(Some(("False", "DependencyNotReady", "dependency not ready")), Some(1))), Pending),
            (Some(status(Some(("True", "ReconciliationSucceeded", "old")), Some(1))), Installed),
        ];
        for (st, want) in cases {
            assert_eq!(derive_kustomization_state(Some(1), st.as_ref()).0, want, "{st:?}");
        }
        let old = status(Some(("True", "ReconciliationSucceeded", "old")), Some(1));
        assert_eq!(derive_kustomization_state(Some(2), Some(&old)).0, Installing);
    }

    #[test]
    fn names_and_terminal_states() {
        assert_eq!(component_name("bp-cilium"), "cilium");
        assert_eq!(component_name("cilium"), "cilium");
        assert_eq!(component_name("bp-"), "");
        assert!(ComponentState::Installed.is_terminal() && ComponentState::Failed.is_terminal());
        assert!(!ComponentState::Degraded.is_terminal() && !ComponentState::Pending.is_terminal());
        assert_eq!(
            serde_json::to_string(&ComponentState::Installing).unwrap(),
            "\"installing\""
        );
    }
}
