//! The engine must not know Tauri: nothing under `src-tauri/src/engine/`
//! may name the `tauri` crate (or its plugins). Adapters translate; the
//! engine decides.

use std::path::{Path, PathBuf};

/// Lines that bring Tauri into a file: `use tauri…`, `tauri::…`,
/// `extern crate tauri`, `#[tauri::…]`, `tauri_plugin_…`.
fn tauri_mentions(source: &str) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
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
            if before_ok && after_ok && !code[..at].contains('"') {
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
    ] {
        assert_eq!(tauri_mentions(bad).len(), 1, "not caught: {bad}");
    }
    for fine in [
        "// tauri is an adapter concern",
        "let s = \"tauri://localhost\";",
        "fn not_tauri_related() {}",
        "let distauri = 1;",
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
