//! Answers files: read as JSON or YAML, checked step by step with the
//! engine's `wizard_validate`, problems printed one per line.

use crate::engine::ErrorCode;
use std::path::Path;

use serde_json::{Map, Value};

use crate::engine::ValidateArgs;
use crate::engine::domain::DomainCheckArgs;
use crate::engine::pdm::Availability;
use crate::engine::wizard::model::DomainMode;
use crate::engine::wizard::{FieldError, Step, WizardAnswers};

use super::{EXIT_FAILED, EXIT_INVALID_ANSWERS};

/// Why an answers file cannot be used, and the exit code that says so.
pub struct Refused {
    pub code: u8,
    pub message: String,
}

/// Problems printed before "and N more": a wrong file should not flood the terminal.
const MAX_PROBLEMS: usize = 20;
/// Values (nodes) a parsed file may hold once YAML aliases are expanded: far
/// above any real answers file, far below a billion laughs.
const MAX_NODES: usize = 100_000;

/// Reads the answers: `.json` files as JSON, anything else as YAML (which
/// also reads JSON). Unknown keys, wrong types and missing required fields
/// are each reported with their field path, one line per problem.
pub fn load(path: &Path) -> Result<WizardAnswers, Refused> {
    let text = std::fs::read_to_string(path).map_err(|e| Refused {
        code: EXIT_FAILED,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse(&text, is_json).map_err(|problems| Refused {
        code: EXIT_INVALID_ANSWERS,
        message: report(&path.display().to_string(), &problems),
    })
}

/// The answers in `text`, or every problem found (unbounded, unescaped).
fn parse(text: &str, is_json: bool) -> Result<WizardAnswers, Vec<String>> {
    // Editors on Windows write a BOM; neither parser skips it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut value: Value = if is_json {
        serde_json::from_str(text).map_err(|e| vec![format!("not a valid answers file (JSON): {e}")])?
    } else {
        // serde_yaml_ng caps alias replay itself; MAX_NODES caps what it let through.
        serde_yaml_ng::from_str(text).map_err(|e| vec![format!("not a valid answers file (YAML): {e}")])?
    };
    if nodes(&value, MAX_NODES) > MAX_NODES {
        return Err(vec![format!(
            "more than {MAX_NODES} values (YAML aliases expanded): not an answers file"
        )]);
    }
    // An empty file is all fields missing.
    if value.is_null() {
        value = Value::Object(Map::new());
    }
    let known = known();
    let mut problems = Vec::new();
    // Before nulls go: `typo: null` is still a typo.
    unknown_keys(&value, &known, "", &mut problems);
    strip_nulls(&mut value);
    // serde stops at the first error: report it, put a known-good value in
    // its place and go on, so one run names every wrong field.
    loop {
        match serde_path_to_error::deserialize::<_, WizardAnswers>(value.clone()) {
            Ok(answers) if problems.is_empty() => return Ok(answers),
            Ok(_) => return Err(problems),
            Err(e) => {
                let at = e.path().to_string();
                let inner = e.into_inner().to_string();
                let segments = path_segments(&at);
                match inner
                    .strip_prefix("missing field `")
                    .and_then(|r| r.strip_suffix('`'))
                {
                    Some(field) => problems.push(format!("{}: missing", join(&at, field))),
                    None if at == "." => problems.push(inner.clone()),
                    None => problems.push(format!("{at}: {inner}")),
                }
                if problems.len() > MAX_PROBLEMS * 50 || !patch(&mut value, &known, &segments) {
                    return Err(problems);
                }
            }
        }
    }
}

/// The lines printed for `problems` in `file`: the first MAX_PROBLEMS, then a count.
fn report(file: &str, problems: &[String]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(MAX_PROBLEMS)
        .map(|p| escape(&format!("{file}: {p}")))
        .collect();
    if problems.len() > MAX_PROBLEMS {
        lines.push(format!("{file}: and {} more", problems.len() - MAX_PROBLEMS));
    }
    lines.join("\n")
}

/// Control characters (a newline, an escape sequence) in a key or value
/// must not break the one-problem-a-line output or drive the terminal.
fn escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The shape of an answers file with every optional part present, from the
/// types themselves so the known keys never go stale.
fn known() -> Value {
    let mut a = WizardAnswers::defaults();
    a.organisation.compliance = vec![String::new()];
    a.credentials.ssh_allowed_cidrs = vec![String::new()];
    a.domain.registrar = Some(String::new());
    a.domain.availability = Some(Availability {
        subdomain: String::new(),
        pool: String::new(),
        fqdn: String::new(),
        available: false,
        reason: None,
        reason_code: Some(String::new()),
        title: String::new(),
        message: String::new(),
        checked_locally: false,
    });
    serde_json::to_value(a).unwrap_or(Value::Null)
}

/// Counts values, stopping once past `limit`.
fn nodes(v: &Value, limit: usize) -> usize {
    let mut stack = vec![v];
    let mut n = 0;
    while let Some(v) = stack.pop() {
        n += 1;
        if n > limit {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

/// `key: null` means the key is missing (its default, or "missing" when required).
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, v| !v.is_null());
            o.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path == "." {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Every key of `v` that `known` has no place for, at any depth. Where
/// `known` has no shape (a null, an empty list) anything goes.
fn unknown_keys(v: &Value, known: &Value, path: &str, out: &mut Vec<String>) {
    match (v, known) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, value) in o {
                let at = join(path, key);
                match k.get(key) {
                    Some(kv) => unknown_keys(value, kv, &at, out),
                    None => out.push(format!("unknown key `{at}`: {}", suggest(key, k))),
                }
            }
        }
        (Value::Array(a), Value::Array(k)) if !k.is_empty() => {
            for (i, value) in a.iter().enumerate() {
                unknown_keys(value, &k[0], &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn suggest(key: &str, known: &Map<String, Value>) -> String {
    let best = known
        .keys()
        .map(|k| (distance(&key.to_lowercase(), k), k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 2.max(key.chars().count() / 3) => format!("did you mean `{k}`?"),
        _ => {
            let keys: Vec<&str> = known.keys().map(String::as_str).collect();
            format!("known keys here: {}", keys.join(", "))
        }
    }
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

enum Segment {
    Key(String),
    Index(usize),
}

/// Splits serde_path_to_error's `a.b[0].c` (keys may hold dots or brackets
/// only in files that already failed the unknown-key walk).
fn path_segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    if path == "." {
        return out;
    }
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key.to_string()));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

/// Puts the known sample's value at `path` in place of the wrong one (or
/// drops it when the sample has none); false when nothing could change.
fn patch(v: &mut Value, known: &Value, path: &[Segment]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = v;
    let mut k = Some(known);
    for s in parents {
        let next = match (s, cur) {
            (Segment::Key(key), Value::Object(o)) => o.get_mut(key),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return false };
        cur = next;
        k = k.and_then(|k| step(k, s));
    }
    let good = k.and_then(|k| step(k, last)).cloned();
    match (last, cur) {
        (Segment::Key(key), Value::Object(o)) => match good {
            Some(g) if o.get(key) != Some(&g) => {
                o.insert(key.clone(), g);
                true
            }
            _ => o.remove(key).is_some(),
        },
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => match good {
            Some(g) if a[*i] != g => {
                a[*i] = g;
                true
            }
            // No sample element: a string is what every list here holds.
            _ if !a[*i].is_string() => {
                a[*i] = Value::String(String::new());
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn step<'a>(known: &'a Value, s: &Segment) -> Option<&'a Value> {
    match (s, known) {
        (Segment::Key(key), Value::Object(o)) => o.get(key),
        (Segment::Index(_), Value::Array(a)) => a.first(),
        _ => None,
    }
}

/// Every problem of every step but Review (which repeats them all), as the
/// lines `Step: field: message`, from the engine's checks.
/// `problems`, told: the problems each through `say` (exit 3), or why they
/// could not be looked for (exit 1); `None` when the answers pass.
pub async fn refuse_problems(
    engine: &crate::engine::Engine,
    answers: &mut WizardAnswers,
    say: impl Fn(&str),
) -> Option<u8> {
    match problems(engine, answers).await {
        Err(m) => {
            super::view::err(&m);
            Some(EXIT_FAILED)
        }
        Ok(lines) if !lines.is_empty() => {
            for l in &lines {
                say(l);
            }
            Some(EXIT_INVALID_ANSWERS)
        }
        Ok(_) => None,
    }
}

pub async fn problems(
    engine: &crate::engine::Engine,
    answers: &mut WizardAnswers,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    // A file has no availability answer: ask PDM (or the demo pool) here, as
    // the window does while the operator types, so the Domain step can pass;
    // the answer stays in `answers`.
    let mut pdm_failed = false;
    if let Some(fqdn) = answers.fqdn()
        && answers.domain.mode == DomainMode::Pool
        && answers
            .domain
            .availability
            .as_ref()
            .is_none_or(|c| c.fqdn != fqdn)
    {
        let args = DomainCheckArgs {
            pool: answers.domain.pool_domain.clone(),
            subdomain: answers.domain.subdomain.clone(),
        };
        match engine.domain_check(args).await {
            Ok(a) => answers.domain.availability = Some(a),
            // A name the local rule refuses is reported by validation below.
            Err(e) if e.code == ErrorCode::UnsupportedPool => {}
            Err(e) => {
                pdm_failed = true;
                lines.push(format!(
                    "{}: domain.subdomain: {}",
                    Step::Domain.title(),
                    e.message
                ));
            }
        }
    }
    for step in &Step::ALL[..6] {
        let args = ValidateArgs {
            step: *step,
            answers: answers.clone(),
        };
        let errors: Vec<FieldError> = engine.wizard_validate(args).await.map_err(|e| e.message)?;
        lines.extend(
            errors
                .into_iter()
                // PDM's own failure was said above; "checking…" adds nothing.
                .filter(|err| {
                    !(pdm_failed
                        && err.field == "domain.subdomain"
                        && err.message.starts_with("Checking whether"))
                })
                .map(|err| format!("{}: {}: {}", step.title(), err.field, err.message)),
        );
    }
    Ok(lines)
}
