//! A secret value on its way to the `tofu` child's environment. It never
//! prints (Debug is masked) and is registered with the log redactor as soon
//! as it exists.

use crate::secrets::register_secret;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register_secret(&value);
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_and_redactor_knows_it() {
        let s = Secret::new("tofu-secret-canary-123");
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
        assert_eq!(
            crate::secrets::redact("x tofu-secret-canary-123 y"),
            "x [REDACTED] y"
        );
    }
}
