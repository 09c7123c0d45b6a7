//! Replies and Hetzner's error objects (`{"error":{code,message,details}}`).
use super::*;

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Option<Value>,
    /// Raw body instead of JSON (a proxy's HTML page).
    pub(super) raw: Option<(&'static str, String)>,
}

pub(super) fn ok(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body: Some(body),
        raw: None,
    }
}

pub(super) fn no_content() -> Reply {
    Reply {
        status: 204,
        body: None,
        raw: None,
    }
}

pub(super) fn err_details(status: u16, code: &str, message: &str, details: Value) -> Reply {
    ok(
        status,
        json!({"error": {"code": code, "message": message, "details": details}}),
    )
}

pub(super) fn err(status: u16, code: &str, message: &str) -> Reply {
    err_details(status, code, message, json!({}))
}

/// `invalid_input` naming the fields, as Hetzner does.
pub(super) fn invalid(message: &str, fields: &[(&str, &str)]) -> Reply {
    let f: Vec<Value> = fields
        .iter()
        .map(|(n, m)| json!({"name": n, "messages": [m]}))
        .collect();
    err_details(400, "invalid_input", message, json!({"fields": f}))
}

pub(super) fn missing(fields: &[&str]) -> Reply {
    let names: Vec<String> = fields.iter().map(|f| format!("'{f}'")).collect();
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|f| (*f, "Missing data for required field."))
        .collect();
    invalid(&format!("invalid input in fields {}", names.join(", ")), &pairs)
}

pub(super) fn not_found(what: &str) -> Reply {
    err(404, "not_found", &format!("{what} not found"))
}

pub(super) fn uniqueness(what: &str) -> Reply {
    err_details(
        409,
        "uniqueness_error",
        &format!("{what} with the same name already exists"),
        json!({"fields": [{"name": "name"}]}),
    )
}
