//! Request-body fields: strings, labels and names, checked as Hetzner checks them.
use super::*;

pub(super) fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub(super) fn labels_of(body: &Value) -> Result<Value, Reply> {
    match body.get("labels") {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if !valid_label_key(k) || !v.as_str().is_some_and(valid_label_value) {
                    return Err(invalid(
                        &format!("invalid label {k}"),
                        &[("labels", "invalid label")],
                    ));
                }
            }
            Ok(Value::Object(m.clone()))
        }
        Some(_) => Err(invalid(
            "labels must be an object",
            &[("labels", "Not a valid mapping type.")],
        )),
    }
}

pub(super) fn valid_label_value(v: &str) -> bool {
    v.is_empty() || valid_label_name(v)
}

pub(super) fn valid_label_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

pub(super) fn valid_label_key(k: &str) -> bool {
    match k.rsplit_once('/') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix.len() <= 253
                && !prefix.starts_with("hetzner.cloud")
                && valid_label_name(name)
        }
        None => valid_label_name(k),
    }
}

/// RFC 1123 host name, as Hetzner wants server names.
pub(super) fn valid_server_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.split('.').all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && !p.ends_with('-')
                && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}
