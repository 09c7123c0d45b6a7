//! Label selectors (`k=v`, `k!=v`, `k`, `!k`, `k in (..)`, `k notin (..)`).
use super::*;

#[derive(Debug, PartialEq)]
pub(super) enum Term {
    Eq(String, String),
    Ne(String, String),
    Has(String),
    NotHas(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// Parses `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`,
/// comma-separated (AND). Commas inside parentheses belong to the set.
pub(super) fn parse_selector(s: &str) -> Result<Vec<Term>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced parentheses".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    parts.push(&s[start..]);
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or("a set needs parentheses")?;
        Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
    };
    let mut terms = Vec::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            return Err("empty expression".into());
        }
        let term = if let Some((k, v)) = p.split_once("!=") {
            Term::Ne(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = p.split_once("==") {
            Term::Eq(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = p.split_once('=') {
            Term::Eq(k.trim().into(), v.trim().into())
        } else if let Some(k) = p.strip_prefix('!') {
            Term::NotHas(k.trim().into())
        } else if let Some((k, rest)) = p.split_once(" notin ") {
            Term::NotIn(k.trim().into(), set(rest)?)
        } else if let Some((k, rest)) = p.split_once(" in ") {
            Term::In(k.trim().into(), set(rest)?)
        } else {
            Term::Has(p.into())
        };
        let key = match &term {
            Term::Eq(k, _)
            | Term::Ne(k, _)
            | Term::Has(k)
            | Term::NotHas(k)
            | Term::In(k, _)
            | Term::NotIn(k, _) => k,
        };
        if !valid_label_key(key) {
            return Err(format!("invalid label key {key:?}"));
        }
        terms.push(term);
    }
    Ok(terms)
}

pub(super) fn selector_matches(terms: &[Term], labels: &Value) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    terms.iter().all(|t| match t {
        Term::Eq(k, v) => get(k) == Some(v.as_str()),
        Term::Ne(k, v) => get(k) != Some(v.as_str()),
        Term::Has(k) => get(k).is_some(),
        Term::NotHas(k) => get(k).is_none(),
        Term::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Term::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
    })
}
