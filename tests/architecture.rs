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
