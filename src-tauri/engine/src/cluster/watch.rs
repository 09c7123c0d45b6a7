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
    ComponentState, ComponentUpdate, component_name, depends_on, derive_kustomization, derive_release,
    failure_hint,
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
    /// What to do about the failure, when one release (or the
    /// Kustomization) failed; None when several did or none.
    pub hint: Option<String>,
}

impl WatchSummary {
    pub fn failed(&self) -> Vec<&ComponentUpdate> {
        self.in_state(ComponentState::Failed)
    }

    pub fn blocked(&self) -> Vec<&ComponentUpdate> {
        self.in_state(ComponentState::Blocked)
    }

    fn in_state(&self, state: ComponentState) -> Vec<&ComponentUpdate> {
        self.components.iter().filter(|c| c.state == state).collect()
    }

    /// Ok when every component installed, else the failures (and what
    /// they block) as an error.
    pub fn into_result(self) -> Result<WatchSummary, ClusterError> {
        let failed: Vec<String> = self
            .failed()
            .iter()
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect();
        if failed.is_empty() {
            return Ok(self);
        }
        let blocked = self.blocked().iter().map(|c| c.name.clone()).collect();
        Err(ClusterError::ComponentsFailed {
            failed,
            blocked,
            hint: self.hint,
        })
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

/// A release as its controller last described it.
struct Seen {
    /// The release's own state (before dependencies are looked at).
    own: ComponentUpdate,
    release: String,
    depends_on: Vec<(String, String)>,
}

/// Everything the watch knows so far.
struct State {
    expected: Vec<String>,
    seen: BTreeMap<(String, String), Seen>,
    /// What was last reported per release: its own state, or blocked.
    shown: BTreeMap<(String, String), ComponentUpdate>,
    /// Components whose HelmRelease was deleted, as last reported.
    removed: BTreeMap<String, ComponentUpdate>,
    /// Keys listed since the last watcher restart, to drop vanished ones.
    relisting: Option<HashSet<(String, String)>>,
    seen_expected: BTreeSet<String>,
    kustomization: Option<ComponentUpdate>,
    listed_once: bool,
}

impl State {
    fn new(expected: Vec<String>) -> State {
        State {
            expected,
            seen: BTreeMap::new(),
            shown: BTreeMap::new(),
            removed: BTreeMap::new(),
            relisting: None,
            seen_expected: BTreeSet::new(),
            kustomization: None,
            listed_once: false,
        }
    }

    fn apply(&mut self, obj: &DynamicObject, sink: &mut (dyn FnMut(WatchEvent) + Send)) {
        let Some(release) = obj.metadata.name.as_deref() else {
            return;
        };
        let namespace = obj.metadata.namespace.clone().unwrap_or_default();
        let (state, message, reason) = derive_release(obj.metadata.generation, obj.data.get("status"));
        let name = component_name(release).to_owned();
        let key = (namespace.clone(), release.to_owned());
        if let Some(set) = &mut self.relisting {
            set.insert(key.clone());
        }
        if self.expected.contains(&name) {
            self.seen_expected.insert(name.clone());
        }
        self.removed.remove(&name);
        let depends_on = depends_on(obj.data.get("spec"), &namespace);
        let own = ComponentUpdate {
            name,
            namespace,
            state,
            message,
            reason,
        };
        self.seen.insert(
            key,
            Seen {
                own,
                release: release.to_owned(),
                depends_on,
            },
        );
        self.report(sink);
    }

    fn remove(&mut self, key: &(String, String), sink: &mut (dyn FnMut(WatchEvent) + Send)) {
        self.seen.remove(key);
        if let Some(mut gone) = self.shown.remove(key) {
            gone.state = ComponentState::Removed;
            gone.message = "the HelmRelease was deleted".into();
            gone.reason = String::new();
            self.removed.insert(gone.name.clone(), gone.clone());
            sink(WatchEvent::Component { update: gone });
        }
        self.report(sink);
    }

    /// The failed release `key` waits on, directly or through others.
    fn blocker(&self, key: &(String, String), visited: &mut HashSet<(String, String)>) -> Option<String> {
        let seen = self.seen.get(key)?;
        for dep in &seen.depends_on {
            // A cycle or a shared dependency is looked at once.
            if !visited.insert(dep.clone()) {
                continue;
            }
            let Some(d) = self.seen.get(dep) else {
                continue;
            };
            if d.own.state == ComponentState::Failed {
                return Some(d.own.name.clone());
            }
            if d.own.state != ComponentState::Installed
                && let Some(root) = self.blocker(dep, visited)
            {
                return Some(root);
            }
        }
        None
    }

    /// A release's state as reported: its own, unless it waits on a failure.
    fn effective(&self, key: &(String, String)) -> Option<ComponentUpdate> {
        let seen = self.seen.get(key)?;
        if seen.own.state.is_terminal() {
            return Some(seen.own.clone());
        }
        let mut visited = HashSet::from([key.clone()]);
        Some(match self.blocker(key, &mut visited) {
            Some(root) => ComponentUpdate {
                state: ComponentState::Blocked,
                message: format!("blocked by {root}, which failed"),
                reason: "DependencyFailed".into(),
                ..seen.own.clone()
            },
            None => seen.own.clone(),
        })
    }

    /// Reports every release whose reported state changed.
    fn report(&mut self, sink: &mut (dyn FnMut(WatchEvent) + Send)) {
        let keys: Vec<_> = self.seen.keys().cloned().collect();
        for key in keys {
            let Some(update) = self.effective(&key) else {
                continue;
            };
            if self.shown.get(&key) != Some(&update) {
                self.shown.insert(key, update.clone());
                sink(WatchEvent::Component { update });
            }
        }
    }

    fn component(&self, name: &str) -> Option<&ComponentUpdate> {
        self.shown.values().find(|c| c.name == name)
    }

    /// The Kustomization failed in a way only a change in the repository
    /// mends: the releases it has not created yet will not appear.
    fn kustomization_failed(&self) -> Option<&ComponentUpdate> {
        self.kustomization
            .as_ref()
            .filter(|k| k.state == ComponentState::Failed)
    }

    /// Nothing can progress any more: every expected release installed,
    /// failed or blocked by a failure (one never created counts as blocked
    /// once the Kustomization that creates it failed for good).
    fn all_terminal(&self) -> bool {
        let ks_failed = self.kustomization_failed().is_some();
        self.expected.iter().all(|n| match self.component(n) {
            Some(c) => c.state.is_terminal(),
            None => ks_failed,
        })
    }

    fn summary(&self, elapsed: Duration) -> WatchSummary {
        let ks = self.kustomization_failed();
        let mut components: Vec<ComponentUpdate> = self
            .expected
            .iter()
            .filter_map(|n| match (self.component(n), ks) {
                (Some(c), _) => Some(c.clone()),
                (None, Some(k)) => Some(ComponentUpdate {
                    name: n.clone(),
                    namespace: String::new(),
                    state: ComponentState::Blocked,
                    message: format!("never created: the Kustomization {} failed", k.name),
                    reason: "DependencyFailed".into(),
                }),
                (None, None) => None,
            })
            .collect();
        components.extend(
            self.shown
                .values()
                .filter(|c| !self.expected.contains(&c.name))
                .cloned(),
        );
        let missing = components
            .iter()
            .any(|c| c.state == ComponentState::Blocked && c.namespace.is_empty());
        if let Some(k) = ks.filter(|_| missing) {
            components.push(ComponentUpdate {
                name: format!("Kustomization {}", k.name),
                ..k.clone()
            });
        }
        let failed: Vec<&ComponentUpdate> = components
            .iter()
            .filter(|c| c.state == ComponentState::Failed)
            .collect();
        let hint = match failed.as_slice() {
            [one] => Some(match self.seen.values().find(|s| s.own.name == one.name) {
                Some(s) => failure_hint(&s.release, &s.own.namespace, &s.own.reason),
                None => format!(
                    "The bootstrap Kustomization cannot build or apply the platform: \
                     `flux -n flux-system get kustomization {0}` and `kubectl -n flux-system \
                     logs deploy/kustomize-controller` show why; fix the GitOps repository, \
                     then `flux reconcile kustomization {0} --with-source` and Resume.",
                    one.name.trim_start_matches("Kustomization ")
                ),
            }),
            _ => None,
        };
        WatchSummary {
            outcome: if failed.is_empty() {
                WatchOutcome::Ready
            } else {
                WatchOutcome::Failed
            },
            components,
            elapsed,
            hint,
        }
    }

    fn pending(&self) -> Vec<String> {
        self.expected
            .iter()
            .filter_map(|n| match self.component(n) {
                None if self.removed.contains_key(n) => {
                    Some(format!("{n} (removed: its HelmRelease was deleted)"))
                }
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
    let mut st = State::new(names);
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
                let vanished: Vec<_> = st.seen.keys().filter(|k| !listed.contains(*k)).cloned().collect();
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
            let (state, message, reason) =
                derive_kustomization(obj.metadata.generation, obj.data.get("status"));
            let update = ComponentUpdate {
                name: obj.metadata.name.clone().unwrap_or_default(),
                namespace: obj.metadata.namespace.clone().unwrap_or_default(),
                state,
                message,
                reason,
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
#[path = "watch_tests.rs"]
mod tests;
