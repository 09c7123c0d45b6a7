//! The engine must not know Tauri. It is its own crate (`src-tauri/engine`,
//! `catalyst-engine`), so the compiler refuses any `tauri` import there; what
//! the compiler cannot see is a dependency creeping in through Cargo.toml,
//! directly or through another crate. This checks the resolved dependency
//! graph: nothing the engine builds with is Tauri, wry, tao or WebKit/GTK.
//! Adapters translate; the engine decides. Also the window's security
//! baseline (CSP, capabilities).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Crates that only a window needs: none may be under the engine.
const WINDOW_CRATES: [&str; 8] = [
    "tauri",
    "wry",
    "tao",
    "webkit2gtk",
    "javascriptcore-rs",
    "gtk",
    "gdk",
    "soup3",
];

fn is_window_crate(name: &str) -> bool {
    WINDOW_CRATES
        .iter()
        .any(|w| name == *w || name.starts_with(&format!("{w}-")) || name.starts_with(&format!("{w}_")))
}

/// Normal (non-dev) dependencies reachable from the package named `root`,
/// from `cargo metadata`'s resolve graph, by package name.
fn normal_deps(root: &str) -> BTreeSet<String> {
    // This machine's platform only: other platforms' crates may not be downloaded.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc names its host");
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            &host,
        ])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let nodes: BTreeMap<String, Vec<String>> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let deps = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k["kind"].is_null() || k["kind"] == "build"))
                })
                .map(|d| d["pkg"].as_str().unwrap().to_owned())
                .collect();
            (n["id"].as_str().unwrap().to_owned(), deps)
        })
        .collect();
    let start = names
        .iter()
        .find(|(_, n)| *n == root)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no package {root}"));
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        if seen.insert(id.clone()) {
            todo.extend(nodes.get(&id).cloned().unwrap_or_default());
        }
    }
    seen.iter().map(|id| names[id].clone()).collect()
}

#[test]
fn the_engine_builds_with_no_window_crate() {
    let engine = normal_deps("catalyst-engine");
    assert!(engine.len() > 50, "the graph looks empty: {engine:?}");
    let bad: Vec<&String> = engine.iter().filter(|n| is_window_crate(n)).collect();
    assert!(bad.is_empty(), "the engine depends on window crates: {bad:?}");
    // The check can fail: the app crate, which has the window, is caught.
    let app = normal_deps("catalyst-provisioner");
    assert!(
        app.iter().any(|n| n == "tauri")
            && app
                .iter()
                .any(|n| is_window_crate(n) && n.starts_with("webkit2gtk"))
    );
}

/// The engine's sources are in its own crate, not back under the app's.
#[test]
fn no_engine_sources_under_the_app_crate() {
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/src/engine");
    assert!(
        !old.exists(),
        "{} must not exist: the engine is src-tauri/engine",
        old.display()
    );
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/engine/src/lib.rs");
    assert!(lib.is_file(), "{}", lib.display());
}

// ------------------------------------------------------------ security baseline

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The window's CSP stays strict: no eval, no wildcard, no remote origin.
/// The only http(s) source is `http://ipc.localhost`, Tauri's IPC endpoint
/// on Linux, which never leaves the process.
#[test]
fn the_window_csp_allows_no_eval_no_wildcard_and_no_remote_origin() {
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file("tauri.conf.json")).unwrap()).unwrap();
    let security = &conf["app"]["security"];
    let csp = security["csp"]
        .as_str()
        .expect("a CSP string in app.security.csp");
    assert!(
        security.get("devCsp").is_none_or(|v| v.is_null()),
        "a devCsp needs the same checks: {security}"
    );
    assert_ne!(security["dangerousDisableAssetCspModification"], true);
    assert_eq!(security["freezePrototype"], true);
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    let mut directives = std::collections::BTreeMap::new();
    for d in csp.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        let mut words = d.split_whitespace();
        let name = words.next().unwrap().to_owned();
        let sources: Vec<String> = words.map(str::to_owned).collect();
        assert!(directives.insert(name.clone(), sources).is_none(), "{name} twice");
    }
    assert_eq!(directives["default-src"], ["'self'"], "{csp}");
    for d in ["object-src", "base-uri", "frame-ancestors"] {
        assert_eq!(directives[d], ["'none'"], "{d} in {csp}");
    }
    for (name, sources) in &directives {
        for s in sources {
            let lower = s.to_ascii_lowercase();
            assert!(
                !lower.contains("unsafe-eval") && !lower.contains("wasm-unsafe-eval"),
                "{name} allows eval: {csp}"
            );
            assert!(
                !lower.contains("unsafe-inline"),
                "{name} allows inline code: {csp}"
            );
            assert!(!lower.contains('*'), "{name} has a wildcard {s}: {csp}");
            let remote_scheme = ["http:", "https:", "ws:", "wss:", "ftp:", "blob:", "filesystem:"];
            assert!(
                !remote_scheme.contains(&lower.as_str()),
                "{name} allows a whole scheme {s}: {csp}"
            );
            if lower.contains("://") {
                assert_eq!(s, "http://ipc.localhost", "{name} names a remote origin: {csp}");
                assert_eq!(name, "connect-src", "ipc.localhost outside connect-src: {csp}");
            }
        }
    }
}

/// The window gets exactly the permissions it uses: none. It calls only the
/// app's own commands (`api`, `events_subscribe`, `bench_mark`), which need
/// no permission while the app defines no command manifest, and engine
/// events come through an IPC channel, not Tauri's event plugin. Adding a
/// permission (or another capability file) fails here on purpose: extend
/// this list in the same change, and say why in its message.
#[test]
fn capabilities_grant_nothing_to_the_main_window() {
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file("tauri.conf.json")).unwrap()).unwrap();
    assert_eq!(
        conf["app"]["security"]["capabilities"],
        serde_json::json!(["main-window"]),
        "capabilities enabled in tauri.conf.json"
    );
    let dir = repo_file("src-tauri/capabilities");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["main-window.json"],
        "capability files in {}",
        dir.display()
    );
    let cap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("main-window.json")).unwrap()).unwrap();
    assert_eq!(cap["identifier"], "main-window");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(cap.get("webviews").is_none(), "{cap}");
    assert!(cap.get("remote").is_none(), "no remote URL may get IPC: {cap}");
    assert!(cap.get("platforms").is_none(), "{cap}");
    assert_eq!(
        cap["permissions"],
        serde_json::json!([]),
        "the window's permissions"
    );
    let keys: Vec<&str> = cap.as_object().unwrap().keys().map(String::as_str).collect();
    for k in &keys {
        assert!(
            ["$schema", "identifier", "description", "windows", "permissions"].contains(k),
            "unexpected capability key {k}: {cap}"
        );
    }
}
