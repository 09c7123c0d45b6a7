//! The Hetzner token check as demo mode simulates it. A presenter steers it
//! by the token text: one containing "readonly" acts like a read-only token
//! (to show the Credentials step refusing it), "invalid" like a revoked one.

use crate::hetzner::TokenScope;

pub fn check_token(token: &str) -> (TokenScope, String) {
    let t = token.trim().to_ascii_lowercase();
    if t.is_empty() {
        return (
            TokenScope::Invalid,
            "Paste a token first (in demo mode any text will do).".into(),
        );
    }
    if t.contains("invalid") {
        return (
            TokenScope::Invalid,
            "Hetzner did not accept this token: it is unknown or was revoked. (Demo: tokens containing \"invalid\" act like this.)".into(),
        );
    }
    if t.contains("readonly") || t.contains("read-only") {
        return (
            TokenScope::ReadOnly,
            "This token can only read. Create a token with Read & Write permission; provisioning needs to create servers. (Demo: tokens containing \"readonly\" act like this.)".into(),
        );
    }
    (
        TokenScope::ReadWrite,
        "Demo token accepted as read & write. Nothing real will be created.".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presenter_steers_the_scope_by_the_token_text() {
        assert_eq!(check_token("anything").0, TokenScope::ReadWrite);
        assert_eq!(check_token("demo-READONLY-1").0, TokenScope::ReadOnly);
        assert_eq!(check_token("invalid").0, TokenScope::Invalid);
        assert_eq!(check_token("  ").0, TokenScope::Invalid);
    }
}
