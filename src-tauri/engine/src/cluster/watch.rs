//! The Phase-1 watch: Flux HelmReleases (and the bootstrap Kustomization)
//! followed with kube-rs watchers until every expected release is installed
//! or failed. It never ends "ready" because nothing was listed yet: it waits
//! for each release the caller named, by name (the guard for a watch that
//! once said ready one second after bootstrap).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::error::{ClusterError, secs};
use super::flux::{
    ComponentState, ComponentUpdate, component_name, derive_kustomization_state, derive_release_state,
};

/// What the watch reports, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WatchEvent {
    /// A HelmRelease changed state or message.
    Component { update: ComponentUpdate },
    /// The bootstrap Kustomization changed state or message.
    Kustomization { update: ComponentUpdate },
    /// Something the operator should look at; the watch goes on.
    Warning { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// Where the HelmReleases live; None watches all namespaces.
    pub namespace: Option<String>,
    /// The Kustomization (in flux-system) that creates the releases.
    pub kustomization: Option<String>,
    /// If no expected release has appeared by then: one warning, then on.
    pub first_seen_timeout: Duration,
    /// The whole watch.
    pub overall_timeout: Duration,
}

impl Default for WatchOptions {
    /// The intervals and limits of the system this app replaces, which held in production.
    fn default() -> Self {
        WatchOptions {
            namespace: Some("flux-system".into()),
            kustomization: Some("bootstrap-kit".into()),
            first_seen_timeout: Duration::from_secs(15 * 60),
            overall_timeout: Duration::from_secs(60 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WatchOutcome {
    /// Every expected release installed.
    Ready,
    /// Every expected release ended, at least one failed.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSummary {
    pub outcome: WatchOutcome,
    /// The expected components first (in the caller's order), then any
    /// other release seen.
    pub components: Vec<ComponentUpdate>,
    pub elapsed: Duration,
}

impl WatchSummary {
    pub fn failed(&self) -> Vec<&ComponentUpdate> {
        self.components
            .iter()
            .filter(|c| c.state == ComponentState::Failed)
            .collect()
    }

    /// Ok when every component installed, else the failures as an error.
    pub fn into_result(self) -> Result<WatchSummary, ClusterError> {
        let failed: Vec<String> = self
            .failed()
            .iter()
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect();
        if failed.is_empty() {
            Ok(self)
        } else {
            Err(ClusterError::ComponentsFailed { failed })
        }
    }
}

pub fn helmrelease_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
    ))
}

pub fn kustomization_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
    ))
}

/// A client from kubeconfig text (the one fetched over SSH).
pub async fn client_from_yaml(kubeconfig_yaml: &str) -> Result<Client, ClusterError> {
    super::ensure_crypto_provider();
    let kc =
        Kubeconfig::from_yaml(kubeconfig_yaml).map_err(|e| ClusterError::KubeconfigInvalid(e.to_string()))?;
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| ClusterError::KubeconfigInvalid(e.to_string()))?;
    Client::try_from(cfg).map_err(|e| ClusterError::KubeClient(e.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Release,
    Kustomization,
}

/// Everything the watch knows so far.
struct State {
    expected: Vec<String>,
    releases: BTreeMap<(String, String), ComponentUpdate>,
    /// Keys listed since the last watcher restart, to drop vanished ones.
    relisting: Option<HashSet<(String, String)>>,
    seen_expected: BTreeSet<String>,
    kustomization: Option<ComponentUpdate>,
    listed_once: bool,
}

impl State {
    fn apply(&mut self, obj: &DynamicObject, sink: &mut (dyn FnMut(WatchEvent) + Send)) {
        let Some(release) = obj.metadata.name.as_deref() else {
            return;
        };
        let namespace = obj.metadata.namespace.clone().unwrap_or_default();
        let (state, message) = derive_release_state(obj.metadata.generation, obj.data.get("status"));
        let name = component_name(release).to_owned();
        let key = (namespace.clone(), release.to_owned());
        if let Some(set) = &mut self.relisting {
            set.insert(key.clone());
        }
        if self.expected.contains(&name) {
            self.seen_expected.insert(name.clone());
        }
        let update = ComponentUpdate {
            name,
            namespace,
            state,
            message,
        };
        if self.releases.get(&key) != Some(&update) {
            self.releases.insert(key, update.clone());
            sink(WatchEvent::Component { update });
        }
    }

    fn remove(&mut self, key: &(String, String), sink: &mut (dyn FnMut(WatchEvent) + Send)) {
        if let Some(mut gone) = self.releases.remove(key) {
            gone.state = ComponentState::Pending;
            gone.message = "the HelmRelease was deleted".into();
            sink(WatchEvent::Component { update: gone });
        }
    }

    fn component(&self, name: &str) -> Option<&ComponentUpdate> {
        self.releases.values().find(|c| c.name == name)
    }

    fn all_terminal(&self) -> bool {
        self.expected
            .iter()
            .all(|n| self.component(n).is_some_and(|c| c.state.is_terminal()))
    }

    fn summary(&self, elapsed: Duration) -> WatchSummary {
        let mut components: Vec<ComponentUpdate> = self
            .expected
            .iter()
            .filter_map(|n| self.component(n).cloned())
            .collect();
        components.extend(
            self.releases
                .values()
                .filter(|c| !self.expected.contains(&c.name))
                .cloned(),
        );
        let failed = components.iter().any(|c| c.state == ComponentState::Failed);
        WatchSummary {
            outcome: if failed {
                WatchOutcome::Failed
            } else {
                WatchOutcome::Ready
            },
            components,
            elapsed,
        }
    }

    fn pending(&self) -> Vec<String> {
        self.expected
            .iter()
            .filter_map(|n| match self.component(n) {
                None => Some(format!("{n} (never appeared)")),
                Some(c) if !c.state.is_terminal() => Some(format!(
                    "{n} ({}{}{})",
                    c.state.as_str(),
                    if c.message.is_empty() { "" } else { ": " },
                    c.message
                )),
                Some(_) => None,
            })
            .collect()
    }

    fn kustomization_note(&self) -> String {
        match &self.kustomization {
            Some(k) => format!(
                " The Kustomization {} is {}: {}.",
                k.name,
                k.state.as_str(),
                k.message
            ),
            None => String::new(),
        }
    }
}

/// Watches Flux until every release in `expected` (HelmRelease names, with
/// or without `bp-`) is installed or failed. Updates go to `sink` as they
/// happen. Ends with the summary, or an error on cancel or overall timeout.
pub async fn watch_releases(
    kubeconfig_yaml: &str,
    expected: Vec<String>,
    sink: &mut (dyn FnMut(WatchEvent) + Send),
    cancel: &CancellationToken,
    options: &WatchOptions,
) -> Result<WatchSummary, ClusterError> {
    let mut names: Vec<String> = Vec::new();
    for e in &expected {
        let n = component_name(e.trim()).to_owned();
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    if names.is_empty() {
        return Err(ClusterError::NothingExpected);
    }
    let client = client_from_yaml(kubeconfig_yaml).await?;
    let hr = helmrelease_resource();
    let releases: Api<DynamicObject> = match &options.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &hr),
        None => Api::all_with(client.clone(), &hr),
    };
    let release_events = watcher::watcher(releases, watcher::Config::default())
        .default_backoff()
        .map(|e| (Source::Release, e))
        .boxed();
    let mut events = match &options.kustomization {
        Some(name) => {
            let ks: Api<DynamicObject> =
                Api::namespaced_with(client, "flux-system", &kustomization_resource());
            let cfg = watcher::Config::default().fields(&format!("metadata.name={name}"));
            let ks_events = watcher::watcher(ks, cfg)
                .default_backoff()
                .map(|e| (Source::Kustomization, e));
            futures_util::stream::select(release_events, ks_events.boxed()).boxed()
        }
        None => release_events,
    };

    let started = Instant::now();
    let first_seen_at = started + options.first_seen_timeout;
    let deadline = started + options.overall_timeout;
    let mut warned_first_seen = false;
    let mut last_error: Option<(String, Instant)> = None;
    let mut st = State {
        expected: names,
        releases: BTreeMap::new(),
        relisting: None,
        seen_expected: BTreeSet::new(),
        kustomization: None,
        listed_once: false,
    };
    let where_ = options.namespace.as_deref().unwrap_or("any namespace").to_owned();

    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
            _ = tokio::time::sleep_until(deadline) => {
                let waited_s = secs(started.elapsed());
                if !st.listed_once {
                    return Err(ClusterError::KubeApiUnreachable {
                        waited_s,
                        last_error: last_error.map_or("no answer".into(), |(e, _)| e),
                    });
                }
                if st.seen_expected.is_empty() {
                    return Err(ClusterError::FluxNotReconciling {
                        waited_s,
                        expected: st.expected.clone(),
                        kustomization: st.kustomization.as_ref().map(|k| format!("{}: {}", k.state.as_str(), k.message)),
                    });
                }
                return Err(ClusterError::ReleasesTimeout { waited_s, pending: st.pending() });
            }
            _ = tokio::time::sleep_until(first_seen_at), if !warned_first_seen && st.seen_expected.is_empty() => {
                warned_first_seen = true;
                sink(WatchEvent::Warning {
                    message: format!(
                        "No expected HelmRelease has appeared in {where_} after {} s (waiting for {}). \
                         Check `kubectl -n flux-system get gitrepository,kustomization` and the \
                         source-controller and kustomize-controller logs.{} The watch goes on.",
                        secs(options.first_seen_timeout),
                        st.expected.join(", "),
                        st.kustomization_note(),
                    ),
                });
            }
            item = events.next() => {
                let Some((source, item)) = item else {
                    // Watcher streams do not end; if one did, nothing more can arrive.
                    return Err(ClusterError::KubeClient("the watch stream ended".into()));
                };
                match item {
                    Ok(event) => handle(source, event, &mut st, sink),
                    Err(e) => {
                        let text = e.to_string();
                        // One warning per distinct error per minute: the
                        // watcher retries with backoff and would repeat it.
                        let repeat = last_error
                            .as_ref()
                            .is_some_and(|(t, at)| *t == text && at.elapsed() < Duration::from_secs(60));
                        if !repeat {
                            sink(WatchEvent::Warning {
                                message: format!(
                                    "The Kubernetes API answered the watch with an error (retrying): {text}"
                                ),
                            });
                            last_error = Some((text, Instant::now()));
                        }
                    }
                }
                if st.all_terminal() {
                    return Ok(st.summary(started.elapsed()));
                }
            }
        }
    }
}

fn handle(
    source: Source,
    event: Event<DynamicObject>,
    st: &mut State,
    sink: &mut (dyn FnMut(WatchEvent) + Send),
) {
    match (source, event) {
        (Source::Release, Event::Init) => st.relisting = Some(HashSet::new()),
        (Source::Release, Event::InitApply(obj) | Event::Apply(obj)) => st.apply(&obj, sink),
        (Source::Release, Event::InitDone) => {
            st.listed_once = true;
            if let Some(listed) = st.relisting.take() {
                let vanished: Vec<_> = st
                    .releases
                    .keys()
                    .filter(|k| !listed.contains(*k))
                    .cloned()
                    .collect();
                for k in vanished {
                    st.remove(&k, sink);
                }
            }
        }
        (Source::Release, Event::Delete(obj)) => {
            let key = (
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default(),
            );
            st.remove(&key, sink);
        }
        (Source::Kustomization, Event::InitApply(obj) | Event::Apply(obj)) => {
            let (state, message) =
                derive_kustomization_state(obj.metadata.generation, obj.data.get("status"));
            let update = ComponentUpdate {
                name: obj.metadata.name.clone().unwrap_or_default(),
                namespace: obj.metadata.namespace.clone().unwrap_or_default(),
                state,
                message,
            };
            if st.kustomization.as_ref() != Some(&update) {
                st.kustomization = Some(update.clone());
                sink(WatchEvent::Kustomization { update });
            }
        }
        (Source::Kustomization, _) => {}
    }
}

#[cfg(test)]
mod tests {
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
        State {
            expected: expected.iter().map(|s| s.to_string()).collect(),
            releases: BTreeMap::new(),
            relisting: None,
            seen_expected: BTreeSet::new(),
            kustomization: None,
            listed_once: false,
        }
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
        assert_eq!(
            err.to_string(),
            "1 component(s) failed: cert-manager: InstallFailed"
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
        assert_eq!(st.pending(), vec!["cilium (never appeared)".to_string()]);
        match events.last().unwrap() {
            WatchEvent::Component { update } => assert_eq!(update.state, ComponentState::Pending),
            e => panic!("unexpected {e:?}"),
        }
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
}
