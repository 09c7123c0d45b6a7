//! State of Flux objects, derived from their status alone (no I/O): the
//! HelmRelease states of the system this app replaces, refined by what
//! helm-controller and kustomize-controller themselves write (their
//! `Stalled` condition for "needs a fix, not time", `Reconciling` with
//! `ProgressingWithRetry` for "failed, will try again"), plus a staleness
//! guard: a `Ready` condition that describes an older generation than the
//! object's current one says nothing about the current one.

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
    /// Waits on a release that failed: it cannot install until that one is fixed.
    Blocked,
    /// Its HelmRelease was deleted (it may be created again).
    Removed,
}

impl ComponentState {
    /// Installed, failed or blocked by a failure: the watch stops waiting for it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ComponentState::Installed | ComponentState::Failed | ComponentState::Blocked
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Pending => "pending",
            ComponentState::Installing => "installing",
            ComponentState::Installed => "installed",
            ComponentState::Degraded => "degraded",
            ComponentState::Failed => "failed",
            ComponentState::Blocked => "blocked",
            ComponentState::Removed => "removed",
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
    /// The controller's reason (`InstallFailed`, `RetriesExceeded`…), for the hint.
    #[serde(default)]
    pub reason: String,
}

/// `Ready=False` reasons after which helm-controller needs a fix, not time,
/// unless it says it will retry (`Reconciling=True`, `ProgressingWithRetry`).
/// From helm-controller's api/v2 (`InstallFailed` … `ArtifactFailed`), its
/// v2beta1/v2beta2 (`InitFailed`, `GetLastReleaseFailed`), the reference's
/// `ChartPullError`/`ChartLoadError`, and the fluxcd/pkg reasons it pairs
/// with `Stalled` (`InvalidCELExpression`, `AccessDenied`).
pub const TERMINAL_RELEASE_REASONS: [&str; 13] = [
    "InstallFailed",
    "UpgradeFailed",
    "TestFailed",
    "RollbackFailed",
    "UninstallFailed",
    "ArtifactFailed",
    "InitFailed",
    "GetLastReleaseFailed",
    "ChartPullError",
    "ChartLoadError",
    "InvalidCELExpression",
    "AccessDenied",
    "RetriesExceeded",
];
/// `Ready=False` reasons that mean work is under way or waits on something
/// that comes by itself: a dependency, the chart's source, a health check
/// cut short, drift being corrected.
const PROGRESS_REASONS: [&str; 7] = [
    "Progressing",
    "ProgressingWithRetry",
    "ReconcileStarted",
    "DependencyNotReady",
    "SourceNotReady",
    "HealthCheckCanceled",
    "DriftDetected",
];

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

/// The `Stalled=True` condition, if the controller gave up until a fix.
fn stalled(status: Option<&Value>) -> Option<&Value> {
    condition(status, "Stalled").filter(|c| str_field(c, "status") == "True")
}

/// Whether the controller says it will try again (`Reconciling=True`).
fn retrying(status: Option<&Value>) -> bool {
    condition(status, "Reconciling").is_some_and(|c| str_field(c, "status") == "True")
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

/// A message that says both the Stalled and the Ready text, once each.
fn joined(first: &str, second: &str) -> String {
    match (first.is_empty(), second.is_empty()) {
        (_, true) => first.to_owned(),
        (true, false) => second.to_owned(),
        _ if first.contains(second) || second.contains(first) => first.to_owned(),
        _ => format!("{first}: {second}"),
    }
}

/// A derived state with its message and the controller's reason.
pub type Derived = (ComponentState, String, String);

/// A HelmRelease's state, message and reason from `metadata.generation` and `status`.
pub fn derive_release(generation: Option<i64>, status: Option<&Value>) -> Derived {
    let ready = condition(status, "Ready");
    // Stalled=True is helm-controller's own "no further attempt": retries
    // exhausted, no rollback target, a bad CEL expression, access denied.
    if let Some(st) = stalled(status) {
        let ready_msg = ready.map(|r| str_field(r, "message")).unwrap_or("");
        return (
            ComponentState::Failed,
            joined(str_field(st, "message"), ready_msg),
            str_field(st, "reason").to_owned(),
        );
    }
    let Some(ready) = ready else {
        return (
            ComponentState::Pending,
            "waiting for helm-controller".into(),
            String::new(),
        );
    };
    let message = str_field(ready, "message").to_owned();
    let reason = str_field(ready, "reason");
    let state = match str_field(ready, "status") {
        "True" => ComponentState::Installed,
        "Unknown" => ComponentState::Installing,
        "False"
            if reason == "DependencyNotReady"
                || (message.contains("dependency '") && message.contains("' is not ready")) =>
        {
            ComponentState::Pending
        }
        // helm-controller's "Source not ready: artifact not found. Retrying…".
        "False" if reason == "ArtifactFailed" && message.starts_with("Source not ready") => {
            ComponentState::Installing
        }
        "False" if TERMINAL_RELEASE_REASONS.contains(&reason) && retrying(status) => ComponentState::Degraded,
        "False" if TERMINAL_RELEASE_REASONS.contains(&reason) => ComponentState::Failed,
        "False" if PROGRESS_REASONS.contains(&reason) => ComponentState::Installing,
        // ValuesError, ReconcileError, StateError…: retried with backoff.
        "False" => ComponentState::Degraded,
        // A status value Kubernetes does not define: not evidence of anything.
        _ => ComponentState::Pending,
    };
    if state == ComponentState::Installed
        && let Some(why) = stale(generation, status, ready)
    {
        return (ComponentState::Installing, why, reason.to_owned());
    }
    let message = if state == ComponentState::Degraded
        && retrying(status)
        && TERMINAL_RELEASE_REASONS.contains(&reason)
    {
        format!("{message} (helm-controller retries)")
    } else {
        message
    };
    (state, message, reason.to_owned())
}

/// The releases a HelmRelease waits for (`spec.dependsOn`), as
/// (namespace, name); a dependency without a namespace is in the release's own.
pub fn depends_on(spec: Option<&Value>, own_namespace: &str) -> Vec<(String, String)> {
    let Some(list) = spec.and_then(|s| s.get("dependsOn")).and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|d| {
            let name = str_field(d, "name");
            if name.is_empty() {
                return None;
            }
            let ns = match str_field(d, "namespace") {
                "" => own_namespace,
                ns => ns,
            };
            Some((ns.to_owned(), name.to_owned()))
        })
        .collect()
}

/// The bootstrap Kustomization's state. It gates nothing (the releases do),
/// but when no release appears it says where Flux is stuck, and when it
/// failed for good no release it has not created yet will appear.
pub fn derive_kustomization(generation: Option<i64>, status: Option<&Value>) -> Derived {
    let ready = condition(status, "Ready");
    if let Some(st) = stalled(status) {
        let ready_msg = ready.map(|r| str_field(r, "message")).unwrap_or("");
        return (
            ComponentState::Failed,
            joined(str_field(st, "message"), ready_msg),
            str_field(st, "reason").to_owned(),
        );
    }
    let Some(ready) = ready else {
        return (
            ComponentState::Pending,
            "waiting for kustomize-controller".into(),
            String::new(),
        );
    };
    let message = str_field(ready, "message").to_owned();
    let reason = str_field(ready, "reason");
    let state = match (str_field(ready, "status"), reason) {
        ("True", _) => ComponentState::Installed,
        ("Unknown", _) => ComponentState::Installing,
        // The source is not fetched yet; source-controller brings it.
        ("False", "DependencyNotReady" | "ArtifactFailed") => ComponentState::Pending,
        ("False", "Progressing" | "ProgressingWithRetry" | "HealthCheckCanceled") => {
            ComponentState::Installing
        }
        // A kustomize build error needs a change in the repository.
        ("False", "BuildFailed" | "InvalidCELExpression" | "AccessDenied" | "FeatureGateDisabled") => {
            ComponentState::Failed
        }
        // Apply errors (a CRD not installed yet), prune errors and health
        // checks heal as releases install; kustomize-controller retries.
        ("False", _) => ComponentState::Degraded,
        _ => ComponentState::Pending,
    };
    if state == ComponentState::Installed
        && let Some(why) = stale(generation, status, ready)
    {
        return (ComponentState::Installing, why, reason.to_owned());
    }
    (state, message, reason.to_owned())
}

/// What the operator should do about a failed release, by its reason.
pub fn failure_hint(release: &str, namespace: &str, reason: &str) -> String {
    let retry = format!("then `flux reconcile helmrelease {release} -n {namespace} --force` and Resume");
    match reason {
        "ArtifactFailed" | "ChartPullError" | "ChartLoadError" => format!(
            "The chart could not be fetched or loaded: check its HelmRepository/OCIRepository (`flux get sources all -A`) and that the cluster reaches the registry, {retry}."
        ),
        "AccessDenied" => format!(
            "helm-controller refused a cross-namespace reference: keep the chart source in {namespace} or allow it, {retry}."
        ),
        "InvalidCELExpression" => format!(
            "A readiness expression in the release's spec is invalid: fix it in the GitOps repository, {retry}."
        ),
        "TestFailed" => format!(
            "The chart's tests failed: `kubectl -n {namespace} get pods` shows the test pods' logs; fix the values, {retry}."
        ),
        _ => format!(
            "The chart's install did not become ready: `kubectl get pods -A` and `kubectl -n {namespace} describe helmrelease {release}` show why (images, volumes, values); fix the cause, {retry}."
        ),
    }
}

#[cfg(test)]
#[path = "flux_tests.rs"]
mod tests;
