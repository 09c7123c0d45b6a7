//! A small YAML writer for the cloud-config and the k3s files: block maps and
//! lists, multi-line text as literal blocks (readable on the server), every
//! other string double-quoted with JSON escapes (valid YAML), so no value can
//! be misread as a number, a bool or a YAML tag.

use serde_json::Value;

pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(_) | Value::Array(_) => block(v, 0, &mut out),
        _ => {
            scalar(v, 0, &mut out);
            out.push('\n');
        }
    }
    out
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn is_empty_collection(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

fn block(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                pad(indent, out);
                out.push_str(&quote(k));
                out.push(':');
                child(val, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                pad(indent, out);
                out.push('-');
                child(item, indent, out);
            }
        }
        _ => {}
    }
}

/// Writes what follows `key:` or `-`.
fn child(val: &Value, indent: usize, out: &mut String) {
    match val {
        Value::Object(m) if m.is_empty() => out.push_str(" {}\n"),
        Value::Array(a) if a.is_empty() => out.push_str(" []\n"),
        Value::Object(_) | Value::Array(_) => {
            debug_assert!(!is_empty_collection(val));
            out.push('\n');
            block(val, indent + 2, out);
        }
        _ => {
            out.push(' ');
            scalar(val, indent + 2, out);
            out.push('\n');
        }
    }
}

fn scalar(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::String(s) if literal_ok(s) => {
            out.push_str(if s.ends_with('\n') { "|" } else { "|-" });
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    pad(indent, out);
                    out.push_str(line);
                }
            }
        }
        Value::String(s) => out.push_str(&quote(s)),
        Value::Null => out.push_str("null"),
        other => out.push_str(&other.to_string()),
    }
}

/// Literal blocks keep text byte-exact only for plain multi-line text: no
/// leading blank (it would set the indentation), no trailing spaces (YAML
/// keeps them but editors and reviewers lose them), no tabs or CRs, and at
/// most one final newline.
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.ends_with("\n\n")
        && !s.contains(['\t', '\r'])
        && !s.split('\n').any(|l| l.ends_with(' '))
        && !s.chars().any(|c| c.is_control() && c != '\n')
}

fn quote(s: &str) -> String {
    // serde_json never fails on a &str.
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_blocks_quotes_and_literals() {
        // Keys in sorted order, so the result does not depend on whether
        // serde_json preserves insertion order.
        let v = json!({
            "a": "yes",
            "b": true,
            "empty": {},
            "list": ["x", {"e": [], "k": "v"}],
            "n": 3,
            "nonl": "one\ntwo",
            "text": "line1\n  indented\n\nlast\n",
        });
        let y = to_yaml(&v);
        assert_eq!(
            y,
            "\"a\": \"yes\"\n\"b\": true\n\"empty\": {}\n\"list\":\n  - \"x\"\n  -\n    \"e\": []\n    \"k\": \"v\"\n\
             \"n\": 3\n\"nonl\": |-\n  one\n  two\n\"text\": |\n  line1\n    indented\n\n  last\n"
        );
    }

    #[test]
    fn awkward_text_is_quoted() {
        for s in [" lead\nx", "tab\there\n", "trail \nx", "x\n\n"] {
            let y = to_yaml(&json!({ "t": s }));
            assert!(y.starts_with("\"t\": \""), "{y}");
        }
    }
}
