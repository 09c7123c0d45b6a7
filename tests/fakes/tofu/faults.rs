//! Scripted failures from `CATALYST_FAKE_TOFU_FAIL`.
use crate::*;

pub(crate) fn scripted() -> String {
    std::env::var("CATALYST_FAKE_TOFU_FAIL").unwrap_or_default()
}

pub(crate) fn scripted_error(kind: Kind, first_create: bool) -> Option<ApiError> {
    let e = |code: &str, message: &str| {
        Some(ApiError {
            code: code.into(),
            message: message.into(),
        })
    };
    match scripted().as_str() {
        "readonly" if first_create => e(
            "token_readonly",
            "The token is only allowed to perform GET requests",
        ),
        "uniqueness" if kind == Kind::SshKey => e(
            "uniqueness_error",
            "SSH key with the same fingerprint already exists",
        ),
        "quota" if kind == Kind::Server => e("resource_limit_exceeded", "server limit exceeded"),
        _ => None,
    }
}
