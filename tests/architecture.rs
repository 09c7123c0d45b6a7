//! The engine must not know Tauri: nothing under `src-tauri/src/engine/`
//! may name the `tauri` crate (or its plugins). Adapters translate; the
//! engine decides.

use std::path::{Path, PathBuf};

/// `source` with the insides of string and char literals and every comment
/// blanked, line breaks kept (so line numbers still match): what is left is
/// code. Handles escapes, raw strings (`r#"…"#`, `br"…"`), nested block
/// comments, and tells char literals from lifetimes.
fn code_only(source: &str) -> String {
    let b: Vec<char> = source.chars().collect();
    let n = b.len();
    let at = |i: usize| b.get(i).copied();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < n {
        let c = b[i];
        let prev_ident = i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_');
        if c == '/' && at(i + 1) == Some('/') {
            while i < n && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && at(i + 1) == Some('*') {
            let mut depth = 0;
            while i < n {
                if b[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…", cr"…".
        if !prev_ident && (c == 'r' || (matches!(c, 'b' | 'c') && at(i + 1) == Some('r'))) {
            let mut j = i + if c == 'r' { 1 } else { 2 };
            let mut hashes = 0;
            while at(j) == Some('#') {
                hashes += 1;
                j += 1;
            }
            if at(j) == Some('"') {
                j += 1;
                while j < n {
                    if b[j] == '"' && (1..=hashes).all(|k| at(j + k) == Some('#')) {
                        j += 1 + hashes;
                        break;
                    }
                    if b[j] == '\n' {
                        out.push('\n');
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < n {
                match b[i] {
                    '\\' => {
                        if at(i + 1) == Some('\n') {
                            out.push('\n');
                        }
                        i += 2;
                    }
                    '"' => {
                        i += 1;
                        break;
                    }
                    ch => {
                        if ch == '\n' {
                            out.push('\n');
                        }
                        i += 1;
                    }
                }
            }
            out.push_str("\"\"");
            continue;
        }
        // A char literal ('x', '\'', '\u{..}'); otherwise a lifetime ('a).
        if c == '\'' {
            if at(i + 1) == Some('\\') {
                let mut j = i + 3;
                while j < n && b[j] != '\'' && b[j] != '\n' {
                    j += 1;
                }
                out.push_str("' '");
                i = j + 1;
                continue;
            }
            if at(i + 2) == Some('\'') && at(i + 1) != Some('\n') {
                out.push_str("' '");
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Lines that bring Tauri into a file: `use tauri…`, `tauri::…`,
/// `extern crate tauri`, `#[tauri::…]`, `tauri_plugin_…`. Strings and
/// comments are not code and never count, whatever stands around them.
fn tauri_mentions(source: &str) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    let code = code_only(source);
    for (i, (code, line)) in code.lines().zip(source.lines()).enumerate() {
        let bytes = code.as_bytes();
        let mut start = 0;
        while let Some(pos) = code[start..].find("tauri") {
            let at = start + pos;
            let before_ok = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
            let rest = &code[at + 5..];
            let after_ok = rest.starts_with("::")
                || rest.starts_with("_plugin")
                || rest.starts_with("_build")
                || rest.starts_with(';')
                || rest.starts_with(' ')
                || rest.starts_with('{')
                || rest.starts_with('}')
                || rest.starts_with(',')
                || rest.is_empty();
            if before_ok && after_ok {
                hits.push((i + 1, line.trim().to_owned()));
                break;
            }
            start = at + 5;
        }
    }
    hits
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_checker_catches_every_way_of_naming_tauri() {
    for bad in [
        "use tauri::Manager;",
        "    let h: tauri::AppHandle = x;",
        "extern crate tauri;",
        "#[tauri::command]",
        "use tauri_plugin_dialog::DialogExt;",
        "use tauri;",
        "use {serde, tauri};",
        // A string or comment before it on the same line hides nothing.
        "let s = \"a\"; use tauri::Manager;",
        "let u = \"http://x\"; tauri::async_runtime::spawn(f);",
        "let q = \"say \\\"hi\\\"\"; let h: tauri::AppHandle = x;",
        "let c = '\"'; tauri::async_runtime::spawn(f);",
        "let c = '\\''; tauri::async_runtime::spawn(f);",
        "let r = r#\"a \" b\"#; use tauri::Manager;",
        "/* note */ use tauri::Manager;",
        "/* a /* nested */ note */ use tauri::Manager;",
        "fn f<'a>(x: &'a str) -> tauri::State<'a, X> {",
        "let s = \"one\ntwo\";\nuse tauri::Manager;",
    ] {
        assert_eq!(tauri_mentions(bad).len(), 1, "not caught: {bad}");
    }
    assert_eq!(
        tauri_mentions("let s = \"one\ntwo\";\nuse tauri::Manager;")[0].0,
        3,
        "line numbers survive a string over two lines"
    );
    for fine in [
        "// tauri is an adapter concern",
        "let s = \"tauri://localhost\";",
        "fn not_tauri_related() {}",
        "let distauri = 1;",
        "let s = \"use tauri::Manager;\";",
        "let s = \"a \\\" use tauri::Manager;\";",
        "let s = r#\"use tauri::x \"quoted\" tauri::y\"#;",
        "let s = br\"use tauri::Manager;\";",
        "/* use tauri::Manager; */",
        "/*\n use tauri::Manager;\n*/",
        "/* outer /* inner */ use tauri::Manager; */",
        "let c = '\\''; // use tauri::Manager;",
        "let s = \"first line\n use tauri::Manager;\";",
        "/// Unlike `tauri::Manager`, this is documentation.",
    ] {
        assert!(tauri_mentions(fine).is_empty(), "false alarm: {fine}");
    }
}

#[test]
fn nothing_under_engine_imports_tauri() {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/src/engine");
    let mut files = Vec::new();
    rust_files(&engine, &mut files);
    assert!(
        files.len() >= 5,
        "engine sources not found under {}",
        engine.display()
    );
    let mut offenders = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (line, code) in tauri_mentions(&text) {
            offenders.push(format!("{}:{line}: {code}", f.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "the engine must not import tauri:\n{}",
        offenders.join("\n")
    );
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
