//! OpenTofu's state and plan encryption, configured through the child's
//! `TF_ENCRYPTION` environment variable instead of an `encryption` block in
//! the module: Terraform cannot parse that block, and in the environment the
//! passphrase never reaches a file. OpenTofu (>= 1.7) merges this value with
//! the configuration exactly as if it were the block's body; Terraform
//! ignores it, so under Terraform state and plan are plaintext (which is why
//! the app accepts Terraform only when Settings name it, with a warning).

use super::hcl;
use super::secret::Secret;

/// The variable OpenTofu reads the encryption configuration from.
pub const ENV: &str = "TF_ENCRYPTION";

/// pbkdf2 refuses shorter passphrases.
pub const MIN_PASSPHRASE_CHARS: usize = 16;

/// The body of an `encryption` block: one pbkdf2 key from the passphrase,
/// AES-GCM for state and plan (the plan carries every variable value,
/// user_data included), both `enforced` so OpenTofu refuses to write either
/// in plaintext.
pub fn config(passphrase: &Secret) -> String {
    format!(
        "key_provider \"pbkdf2\" \"catalyst\" {{\n  passphrase = {}\n}}\n\
         method \"aes_gcm\" \"catalyst\" {{\n  keys = key_provider.pbkdf2.catalyst\n}}\n\
         state {{\n  method   = method.aes_gcm.catalyst\n  enforced = true\n}}\n\
         plan {{\n  method   = method.aes_gcm.catalyst\n  enforced = true\n}}\n",
        hcl::string(passphrase.expose())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_is_one_escaped_literal() {
        let text = config(&Secret::new("pa\"ss ${x} with length"));
        assert!(
            text.contains(r#"passphrase = "pa\"ss $${x} with length""#),
            "{text}"
        );
        assert_eq!(text.matches("enforced = true").count(), 2, "{text}");
    }
}
