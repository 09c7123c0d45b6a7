//! Bad answers files name what is wrong and where: for every field path of
//! the example answers file, variants (misspelt key, wrong type, null,
//! control characters, nested unknown key) in JSON and YAML, each run through
//! `validate` of the real binary. Also: a good file (with a BOM too) still
//! validates, output is bounded, and a billion-laughs YAML is refused fast.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use catalyst_tests::support::app_binary;
use serde_json::{Value, json};

const EXIT_INVALID_ANSWERS: i32 = 3;

fn example() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/answers.demo.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `validate` in demo mode: (exit code, stdout + stderr).
fn validate(home: &Path, file: &Path) -> (i32, String) {
    let out = Command::new(app_binary())
        .env("CATALYST_HOME", home)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["--demo", "validate"])
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn show(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => s.push_str(&format!(".{k}")),
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(at.clone());
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                at.push(Seg::Key(k.clone()));
                paths(v, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                at.push(Seg::Index(i));
                paths(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Index(i) => &mut v[*i],
    })
}

/// A value of a type the field does not take, with control characters
/// where it is a string.
fn wrong_type(v: &Value) -> Value {
    match v {
        Value::String(_) => json!(42),
        Value::Bool(_) => json!("\u{1b}[31myes\u{7}"),
        Value::Number(_) => json!("many\r\nlines"),
        Value::Array(_) => json!({"a": 1}),
        Value::Object(_) => json!(7),
        Value::Null => json!([1]),
    }
}

struct Case {
    name: String,
    answers: Value,
    /// What the output must contain; None: the file must load (null is missing).
    expect: Option<String>,
}

fn cases() -> Vec<Case> {
    let good = example();
    let mut all = Vec::new();
    paths(&good, &mut Vec::new(), &mut all);
    let mut cases = Vec::new();
    for path in &all {
        let p = show(path);
        let here = {
            let mut g = good.clone();
            get_mut(&mut g, path).clone()
        };
        // Wrong type (control characters included for bools and numbers).
        if !path.is_empty() && !(here.is_null()) {
            let mut a = good.clone();
            *get_mut(&mut a, path) = wrong_type(&here);
            cases.push(Case {
                name: format!("wrong type at {p}"),
                answers: a,
                expect: Some(format!("{p}: invalid ")),
            });
        }
        // Nested unknown key in every mapping.
        if here.is_object() {
            let mut a = good.clone();
            get_mut(&mut a, path)["zz_unknown"] = json!(1);
            cases.push(Case {
                name: format!("unknown key in {p}"),
                answers: a,
                expect: Some(format!("unknown key `{}`", join(&p, "zz_unknown"))),
            });
        }
        if let Some((Seg::Key(k), parent)) = path.split_last() {
            let pp = show(parent);
            // Misspelt key: the closest known one is suggested.
            let typo = format!("{k}{}", k.chars().last().unwrap());
            let mut a = good.clone();
            let o = get_mut(&mut a, parent).as_object_mut().unwrap();
            let v = o.remove(k).unwrap();
            o.insert(typo.clone(), v);
            cases.push(Case {
                name: format!("misspelt {p}"),
                answers: a,
                expect: Some(format!("unknown key `{}`: did you mean `{k}`?", join(&pp, &typo))),
            });
            // Control characters in a key: named, escaped.
            let mut a = good.clone();
            let o = get_mut(&mut a, parent).as_object_mut().unwrap();
            let v = o.remove(k).unwrap();
            o.insert(format!("{k}\u{1b}[2J"), v);
            cases.push(Case {
                name: format!("control characters in key {p}"),
                answers: a,
                expect: Some(format!("unknown key `{}\\u{{1b}}[2J`", join(&pp, k))),
            });
            // null is "missing": the default, never a type error.
            let mut a = good.clone();
            *get_mut(&mut a, path) = Value::Null;
            cases.push(Case {
                name: format!("null at {p}"),
                answers: a,
                expect: None,
            });
        }
    }
    // A null for a required field says "missing", with its path.
    let mut a = good.clone();
    a["domain"]["availability"] = json!({"subdomain": "x", "pool": "omani.works", "fqdn": null});
    cases.push(Case {
        name: "null required field".into(),
        answers: a,
        expect: Some("domain.availability.fqdn: missing".into()),
    });
    cases
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn write(dir: &Path, n: usize, answers: &Value, json: bool) -> PathBuf {
    let f = dir.join(format!("{n}.{}", if json { "json" } else { "yaml" }));
    let text = if json {
        serde_json::to_string_pretty(answers).unwrap()
    } else {
        serde_yaml_ng::to_string(answers).unwrap()
    };
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn every_bad_field_is_named_in_json_and_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    let mut jobs = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        for json in [true, false] {
            jobs.push((c, write(dir.path(), n * 2 + usize::from(json), &c.answers, json)));
        }
    }
    let threads = 8;
    let chunks: Vec<_> = jobs.chunks(jobs.len().div_ceil(threads)).collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .enumerate()
            .map(|(t, chunk)| {
                let home = dir.path().join(format!("home{t}"));
                s.spawn(move || {
                    let mut failed = Vec::new();
                    for (c, f) in chunk.iter() {
                        let (code, out) = validate(&home, f);
                        let raw_control = out.chars().any(|ch| ch.is_control() && ch != '\n');
                        let ok = match &c.expect {
                            Some(e) => code == EXIT_INVALID_ANSWERS && out.contains(e.as_str()),
                            // Loaded: any remaining lines are the steps' own checks.
                            None => !out.contains("not a valid answers file") && !out.contains("null"),
                        };
                        if !ok || raw_control {
                            failed.push(format!(
                                "{} ({}): exit {code}, expected {:?}:\n{out}",
                                c.name,
                                f.display(),
                                c.expect
                            ));
                        }
                    }
                    failed
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let tried = jobs.len();
    eprintln!(
        "bad answers files: {tried} tried, {} named correctly",
        tried - failures.len()
    );
    assert!(tried >= 300, "only {tried} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_good_file_validates_in_json_and_yaml_and_with_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let good = example();
    for json in [true, false] {
        let f = write(dir.path(), 0, &good, json);
        let (code, out) = validate(&home, &f);
        assert_eq!(code, 0, "{out}");
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(&f, format!("\u{feff}{text}")).unwrap();
        let (code, out) = validate(&home, &f);
        assert_eq!(code, 0, "BOM: {out}");
    }
}

#[test]
fn output_is_bounded_to_twenty_problems() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = example();
    for i in 0..50 {
        a[format!("extra{i}")] = json!(i);
    }
    let f = write(dir.path(), 0, &a, true);
    let (code, out) = validate(&dir.path().join("home"), &f);
    assert_eq!(code, EXIT_INVALID_ANSWERS);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 21, "{out}");
    assert!(lines[20].ends_with("and 30 more"), "{out}");
}

#[test]
fn a_billion_laughs_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    let f = dir.path().join("lol.yaml");
    std::fs::write(&f, text).unwrap();
    let started = Instant::now();
    let (code, out) = validate(&dir.path().join("home"), &f);
    let took = started.elapsed();
    assert_eq!(code, EXIT_INVALID_ANSWERS, "{out}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    eprintln!("billion laughs refused in {took:?}: {out}");
}
