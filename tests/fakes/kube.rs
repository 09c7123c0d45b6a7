//! Stands in for the Sovereign's Kubernetes API server (k3s, port 6443) as
//! the Phase-1 watch sees it: Flux `HelmRelease`s (helm.toolkit.fluxcd.io/v2)
//! and `Kustomization`s (kustomize.toolkit.fluxcd.io/v1), served with the real
//! wire format: list (`…List` with `metadata.resourceVersion`) and watch
//! (`?watch=true&resourceVersion=N`, newline-delimited `WatchEvent`s
//! `{"type":"ADDED|MODIFIED|DELETED","object":…}` resumed after N), bearer
//! auth, `fieldSelector=metadata.name=…`, and `timeoutSeconds`. Plain HTTP
//! on loopback: kube's client accepts an `http://` server in a kubeconfig.
//! Objects change on a script (what helm-controller would write). Core v1
//! Namespaces and Secrets take a server-side apply (`PATCH`, `application/
//! apply-patch+yaml`, `fieldManager`) and are read back by tests. Core v1
//! Nodes are listed from what the test says has joined: a fixed list, or a
//! function of the world (the fake Hetzner's servers, as each server the
//! run creates registers under its own name).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub const TOKEN: &str = "fake-kube-token-7d1c2e9a4b";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    HelmRelease,
    Kustomization,
}

impl Kind {
    fn api_version(self) -> &'static str {
        match self {
            Kind::HelmRelease => "helm.toolkit.fluxcd.io/v2",
            Kind::Kustomization => "kustomize.toolkit.fluxcd.io/v1",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::HelmRelease => "HelmRelease",
            Kind::Kustomization => "Kustomization",
        }
    }
    fn from_plural(group: &str, version: &str, plural: &str) -> Option<Kind> {
        match (group, version, plural) {
            ("helm.toolkit.fluxcd.io", "v2", "helmreleases") => Some(Kind::HelmRelease),
            ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations") => Some(Kind::Kustomization),
            _ => None,
        }
    }
}

/// One change, as a watch delivers it.
#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    kind: Kind,
    kind_type: &'static str,
    object: Value,
}

#[derive(Default)]
struct Store {
    rv: u64,
    objects: BTreeMap<(Kind, String, String), Value>,
    history: Vec<Change>,
    /// Requests seen, as `METHOD path?query`, for tests.
    requests: Vec<String>,
}

struct Shared {
    store: Mutex<Store>,
    tx: broadcast::Sender<Change>,
    /// Core v1 objects applied (Namespaces, Secrets), by (kind, namespace, name).
    core: Mutex<BTreeMap<(String, String, String), Value>>,
    /// The nodes a list returns: (name, Ready), asked at each list.
    nodes: Mutex<NodeSource>,
}

/// Which nodes have joined, by name, and whether each is Ready.
pub type NodeSource = Arc<dyn Fn() -> Vec<(String, bool)> + Send + Sync>;

/// A Ready condition as Flux writes it.
pub fn ready(status: &str, reason: &str, message: &str, observed_generation: i64) -> Value {
    json!({
        "observedGeneration": observed_generation,
        "conditions": [{
            "type": "Ready", "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-12-01T10:10:00Z", "observedGeneration": observed_generation
        }]
    })
}

/// A scripted change.
#[derive(Debug, Clone)]
pub enum Action {
    /// Creates or replaces an object: name, metadata.generation, status.
    Put {
        kind: Kind,
        namespace: String,
        name: String,
        generation: i64,
        status: Option<Value>,
        /// HelmReleases only: `spec.dependsOn` names, in the same namespace.
        depends_on: Vec<String>,
    },
    Delete {
        kind: Kind,
        namespace: String,
        name: String,
    },
}

impl Action {
    pub fn release(name: &str, generation: i64, status: Option<Value>) -> Action {
        Action::release_after(name, &[], generation, status)
    }
    /// A HelmRelease that waits on `depends_on` (`spec.dependsOn`).
    pub fn release_after(name: &str, depends_on: &[&str], generation: i64, status: Option<Value>) -> Action {
        Action::Put {
            kind: Kind::HelmRelease,
            namespace: "flux-system".into(),
            name: name.into(),
            generation,
            status,
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
        }
    }
    pub fn kustomization(name: &str, generation: i64, status: Option<Value>) -> Action {
        Action::Put {
            kind: Kind::Kustomization,
            namespace: "flux-system".into(),
            name: name.into(),
            generation,
            status,
            depends_on: Vec::new(),
        }
    }
}

pub struct FakeKube {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    script: Mutex<Vec<JoinHandle<()>>>,
    applied: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl FakeKube {
    pub async fn start() -> FakeKube {
        let (tx, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::default()),
            tx,
            core: Mutex::new(BTreeMap::new()),
            nodes: Mutex::new(Arc::new(Vec::new)),
        });
        let app = Router::new()
            .route(
                "/apis/{group}/{version}/namespaces/{ns}/{plural}",
                get(namespaced),
            )
            .route("/apis/{group}/{version}/{plural}", get(cluster_wide))
            .route("/api/v1/namespaces/{name}", patch(apply_namespace))
            .route("/api/v1/nodes", get(list_nodes))
            .route(
                "/api/v1/namespaces/{ns}/secrets/{name}",
                patch(apply_secret).get(get_secret),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeKube {
            addr,
            shared,
            server,
            script: Mutex::new(Vec::new()),
            applied: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The nodes are these, from now on.
    pub fn set_nodes(&self, nodes: &[(&str, bool)]) {
        let nodes: Vec<(String, bool)> = nodes.iter().map(|(n, r)| ((*n).to_owned(), *r)).collect();
        *self.shared.nodes.lock().unwrap() = Arc::new(move || nodes.clone());
    }

    /// Every server `names` gives has joined and is Ready (a cluster whose
    /// servers all boot), asked at each list.
    pub fn nodes_are_servers(&self, names: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        self.nodes_from(move || names().into_iter().map(|n| (n, true)).collect());
    }

    /// The nodes are whatever `source` says at each list.
    pub fn nodes_from(&self, source: impl Fn() -> Vec<(String, bool)> + Send + Sync + 'static) {
        *self.shared.nodes.lock().unwrap() = Arc::new(source);
    }

    /// A kubeconfig for this server (token auth, like a k3s service account).
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sovereign\n  cluster:\n    server: {}\n\
             contexts:\n- name: sovereign\n  context:\n    cluster: sovereign\n    user: admin\n\
             current-context: sovereign\nusers:\n- name: admin\n  user:\n    token: {TOKEN}\n",
            self.url()
        )
    }

    /// Flux has converged: the bootstrap Kustomization is ready and every
    /// release in `releases` (as `bp-<name>`) is installed.
    pub fn converged(&self, releases: &[String]) {
        self.apply(&Action::kustomization(
            "bootstrap-kit",
            1,
            Some(ready(
                "True",
                "ReconciliationSucceeded",
                "Applied revision: main",
                1,
            )),
        ));
        for r in releases {
            self.apply(&Action::release(
                &format!("bp-{r}"),
                1,
                Some(ready(
                    "True",
                    "InstallSucceeded",
                    "Helm install succeeded for release x",
                    1,
                )),
            ));
        }
    }

    /// Applies a change now.
    pub fn apply(&self, action: &Action) {
        apply(&self.shared, action);
    }

    /// Applies `steps` in the background, each after its delay from the
    /// previous one; `label`s and times are kept for latency checks.
    pub fn play(&self, steps: Vec<(Duration, &str, Action)>) {
        let shared = self.shared.clone();
        let applied = self.applied.clone();
        let steps: Vec<(Duration, String, Action)> =
            steps.into_iter().map(|(d, l, a)| (d, l.to_owned(), a)).collect();
        let h = tokio::spawn(async move {
            for (delay, label, action) in steps {
                tokio::time::sleep(delay).await;
                apply(&shared, &action);
                applied.lock().unwrap().push((Instant::now(), label));
            }
        });
        self.script.lock().unwrap().push(h);
    }

    /// A Secret as the API serves it (`data` base64, as from stringData), if applied.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Value> {
        self.secrets().secret(namespace, name)
    }

    /// A Secret's value under `key`, decoded.
    pub fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Option<String> {
        self.secrets().value(namespace, name, key)
    }

    /// The applied Secrets, for another double that reads them (the console).
    pub fn secrets(&self) -> KubeSecrets {
        KubeSecrets(self.shared.clone())
    }

    /// When each played step was applied.
    pub fn applied(&self) -> Vec<(Instant, String)> {
        self.applied.lock().unwrap().clone()
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared.store.lock().unwrap().requests.clone()
    }
}

/// A reader of the Secrets applied to a FakeKube.
#[derive(Clone)]
pub struct KubeSecrets(Arc<Shared>);

impl KubeSecrets {
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Value> {
        let key = ("Secret".to_owned(), namespace.to_owned(), name.to_owned());
        self.0.core.lock().unwrap().get(&key).cloned()
    }

    pub fn value(&self, namespace: &str, name: &str, key: &str) -> Option<String> {
        use base64::Engine as _;
        let s = self.secret(namespace, name)?;
        let b64 = s["data"][key].as_str()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        String::from_utf8(bytes).ok()
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        for h in self.script.lock().unwrap().drain(..) {
            h.abort();
        }
        self.server.abort();
    }
}

fn apply(shared: &Shared, action: &Action) {
    let mut store = shared.store.lock().unwrap();
    store.rv += 1;
    let rv = store.rv;
    let change = match action {
        Action::Put {
            kind,
            namespace,
            name,
            generation,
            status,
            depends_on,
        } => {
            let key = (*kind, namespace.clone(), name.clone());
            let existed = store.objects.contains_key(&key);
            let mut object = json!({
                "apiVersion": kind.api_version(),
                "kind": kind.name(),
                "metadata": {
                    "name": name, "namespace": namespace, "generation": generation,
                    "resourceVersion": rv.to_string(),
                    "uid": format!("00000000-0000-4000-8000-{:012}", rv),
                    "creationTimestamp": "2026-12-01T10:08:00Z"
                },
                "spec": {"interval": "10m", "chart": {"spec": {"chart": name}}}
            });
            if !depends_on.is_empty() {
                object["spec"]["dependsOn"] = depends_on.iter().map(|d| json!({"name": d})).collect();
            }
            if let Some(s) = status {
                object["status"] = s.clone();
            }
            store.objects.insert(key, object.clone());
            Change {
                rv,
                kind: *kind,
                kind_type: if existed { "MODIFIED" } else { "ADDED" },
                object,
            }
        }
        Action::Delete {
            kind,
            namespace,
            name,
        } => {
            let Some(mut object) = store.objects.remove(&(*kind, namespace.clone(), name.clone())) else {
                return;
            };
            object["metadata"]["resourceVersion"] = json!(rv.to_string());
            Change {
                rv,
                kind: *kind,
                kind_type: "DELETED",
                object,
            }
        }
    };
    store.history.push(change.clone());
    // No receiver is fine: nobody watches yet.
    let _ = shared.tx.send(change);
}

fn status_body(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn namespaced(
    State(shared): State<Arc<Shared>>,
    Path((group, version, ns, plural)): Path<(String, String, String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(shared, &group, &version, Some(ns), &plural, q, headers).await
}

async fn cluster_wide(
    State(shared): State<Arc<Shared>>,
    Path((group, version, plural)): Path<(String, String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(shared, &group, &version, None, &plural, q, headers).await
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

/// Server-side apply of a core object: the body (JSON is YAML) replaces what
/// was there; `stringData` becomes base64 `data`, as the API server does.
fn apply_core(
    shared: &Shared,
    kind: &str,
    namespace: &str,
    name: &str,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &str,
) -> Response {
    shared
        .store
        .lock()
        .unwrap()
        .requests
        .push(format!("PATCH {kind} {namespace}/{name}"));
    if !bearer_ok(headers) {
        return status_body(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let apply = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/apply-patch+yaml");
    if !apply || !q.contains_key("fieldManager") {
        return status_body(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager is required for apply requests",
        );
    }
    let Ok(mut object) = serde_json::from_str::<Value>(body) else {
        return status_body(StatusCode::BAD_REQUEST, "BadRequest", "the body is not JSON");
    };
    if object["kind"] != kind || object["metadata"]["name"] != name {
        return status_body(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the object's kind or name does not match the request",
        );
    }
    if let Some(string_data) = object.as_object_mut().and_then(|o| o.remove("stringData")) {
        use base64::Engine as _;
        let data = object["data"].as_object().cloned().unwrap_or_default();
        let mut data = data;
        for (k, v) in string_data.as_object().cloned().unwrap_or_default() {
            let text = v.as_str().unwrap_or_default();
            data.insert(k, json!(base64::engine::general_purpose::STANDARD.encode(text)));
        }
        object["data"] = Value::Object(data);
    }
    shared.core.lock().unwrap().insert(
        (kind.to_owned(), namespace.to_owned(), name.to_owned()),
        object.clone(),
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        object.to_string(),
    )
        .into_response()
}

async fn apply_namespace(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    apply_core(&shared, "Namespace", "", &name, &q, &headers, &body)
}

async fn apply_secret(
    State(shared): State<Arc<Shared>>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    apply_core(&shared, "Secret", &ns, &name, &q, &headers, &body)
}

async fn list_nodes(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return status_body(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let source = shared.nodes.lock().unwrap().clone();
    let items: Vec<Value> = source()
        .into_iter()
        .map(|(name, ready)| {
            let condition = if ready {
                json!({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"})
            } else {
                json!({"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "container runtime network not ready: cni plugin not initialized"})
            };
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "status": {"conditions": [condition]}
            })
        })
        .collect();
    let body =
        json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": "1"}, "items": items});
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn get_secret(
    State(shared): State<Arc<Shared>>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !bearer_ok(&headers) {
        return status_body(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let key = ("Secret".to_owned(), ns, name.clone());
    match shared.core.lock().unwrap().get(&key) {
        Some(o) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            o.to_string(),
        )
            .into_response(),
        None => status_body(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("secrets \"{name}\" not found"),
        ),
    }
}

/// Whether an object is in the request's scope.
fn matches(object: &Value, kind: Kind, want: Kind, ns: &Option<String>, field: &Option<String>) -> bool {
    if kind != want {
        return false;
    }
    if let Some(ns) = ns
        && object["metadata"]["namespace"].as_str() != Some(ns)
    {
        return false;
    }
    if let Some(name) = field
        && object["metadata"]["name"].as_str() != Some(name)
    {
        return false;
    }
    true
}

async fn serve(
    shared: Arc<Shared>,
    group: &str,
    version: &str,
    ns: Option<String>,
    plural: &str,
    q: BTreeMap<String, String>,
    headers: HeaderMap,
) -> Response {
    {
        let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let path = match &ns {
            Some(ns) => format!("/apis/{group}/{version}/namespaces/{ns}/{plural}"),
            None => format!("/apis/{group}/{version}/{plural}"),
        };
        shared
            .store
            .lock()
            .unwrap()
            .requests
            .push(format!("GET {path}?{}", query.join("&")));
    }
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    if !authorized {
        return status_body(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let Some(want) = Kind::from_plural(group, version, plural) else {
        return status_body(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    let field = match q.get("fieldSelector").map(|s| s.as_str()) {
        None | Some("") => None,
        Some(sel) => match sel.strip_prefix("metadata.name=") {
            Some(name) => Some(name.to_owned()),
            None => {
                return status_body(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!("field label not supported: {sel}"),
                );
            }
        },
    };
    if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
        let since: u64 = q.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
        let timeout = q
            .get("timeoutSeconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(290u64);
        return watch(shared, want, ns, field, since, Duration::from_secs(timeout));
    }
    let store = shared.store.lock().unwrap();
    let items: Vec<Value> = store
        .objects
        .iter()
        .filter(|((k, _, _), o)| matches(o, *k, want, &ns, &field))
        .map(|(_, o)| o.clone())
        .collect();
    let body = json!({
        "apiVersion": want.api_version(),
        "kind": format!("{}List", want.name()),
        "metadata": {"resourceVersion": store.rv.to_string()},
        "items": items,
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The watch stream: what happened after `since`, then live changes, until
/// `timeout` (the client then re-watches from its last resourceVersion).
fn watch(
    shared: Arc<Shared>,
    want: Kind,
    ns: Option<String>,
    field: Option<String>,
    since: u64,
    timeout: Duration,
) -> Response {
    // Subscribe before reading the history so no change falls between.
    let rx = shared.tx.subscribe();
    let backlog: Vec<Change> = shared
        .store
        .lock()
        .unwrap()
        .history
        .iter()
        .filter(|c| c.rv > since)
        .cloned()
        .collect();
    let last = backlog.last().map_or(since, |c| c.rv);
    let deadline = tokio::time::Instant::now() + timeout;
    let state = (backlog.into_iter(), rx, last);
    let stream = futures_util::stream::unfold(state, move |(mut backlog, mut rx, mut last)| {
        let ns = ns.clone();
        let field = field.clone();
        async move {
            loop {
                let change = match backlog.next() {
                    Some(c) => c,
                    None => match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Ok(c)) if c.rv > last => c,
                        Ok(Ok(_)) => continue,
                        // Lagged: the client must relist, as with a real 410.
                        Ok(Err(_)) | Err(_) => return None,
                    },
                };
                last = last.max(change.rv);
                if !matches(&change.object, change.kind, want, &ns, &field) {
                    continue;
                }
                let line = format!("{}\n", json!({"type": change.kind_type, "object": change.object}));
                return Some((Ok::<_, std::io::Error>(line), (backlog, rx, last)));
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}
