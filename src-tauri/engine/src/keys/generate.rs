//! Key generation: the operator's admin key and the control plane's SSH host
//! key, both ed25519, in OpenSSH format with SHA256 fingerprints.

use crate::error::ErrorCode;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::rand_core::TryRng;
use ssh_key::{HashAlg, LineEnding, PrivateKey};
use ts_rs::TS;

use crate::secrets::register_secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("the key could not be encoded: {0}")]
    Encoding(String),
    #[error("the stored private key could not be read: {0}")]
    StoredKeyUnreadable(String),
    #[error("the private key could not be written to {path}: {detail}")]
    Write { path: String, detail: String },
}

impl KeyError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KeyError::Random(_) => ErrorCode::KeyRandomFailed,
            KeyError::Encoding(_) => ErrorCode::KeyEncodingFailed,
            KeyError::StoredKeyUnreadable(_) => ErrorCode::KeyStoredUnreadable,
            KeyError::Write { .. } => ErrorCode::KeyExportFailed,
        }
    }
}

impl From<KeyError> for crate::error::ApiError {
    fn from(e: KeyError) -> Self {
        let message = match &e {
            KeyError::Write { .. } => format!("The private key was not saved: {e}. Choose another place."),
            _ => format!("The key could not be made: {e}."),
        };
        crate::error::ApiError::new(e.code(), message)
    }
}

/// What the UI shows of a generated key. The private half never is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AdminKeyInfo {
    /// `ssh-ed25519 AAAA… catalyst@<fqdn>`
    pub public_openssh: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub comment: String,
}

/// A freshly made (or reloaded) ed25519 key pair.
pub struct GeneratedKey {
    key: PrivateKey,
    public_openssh: String,
    fingerprint: String,
}

impl fmt::Debug for GeneratedKey {
    // The private key stays out of Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("public_openssh", &self.public_openssh)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl GeneratedKey {
    fn from_private(key: PrivateKey) -> Result<GeneratedKey, KeyError> {
        let public_openssh = key
            .public_key()
            .to_openssh()
            .map_err(|e| KeyError::Encoding(e.to_string()))?;
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let g = GeneratedKey {
            key,
            public_openssh,
            fingerprint,
        };
        // The private text is a secret from the moment it exists; its lines
        // too, since a log line could carry one line of it.
        let text = g.private_openssh()?;
        register_secret(text.trim());
        for line in text.lines().filter(|l| !l.starts_with("-----")) {
            register_secret(line);
        }
        Ok(g)
    }

    /// Reloads a key stored earlier (from the keyring) in OpenSSH format.
    pub fn from_private_openssh(text: &str) -> Result<GeneratedKey, KeyError> {
        let key = PrivateKey::from_openssh(text.trim())
            .map_err(|e| KeyError::StoredKeyUnreadable(e.to_string()))?;
        if key.is_encrypted() {
            return Err(KeyError::StoredKeyUnreadable(
                "it is encrypted with a passphrase".into(),
            ));
        }
        Self::from_private(key)
    }

    pub fn public_openssh(&self) -> &str {
        &self.public_openssh
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn comment(&self) -> String {
        self.key.comment().to_string()
    }

    /// The private key in OpenSSH PEM format; the buffer is wiped on drop.
    pub fn private_openssh(&self) -> Result<impl Deref<Target = String> + use<>, KeyError> {
        self.key
            .to_openssh(LineEnding::LF)
            .map_err(|e| KeyError::Encoding(e.to_string()))
    }

    /// The key for the SSH client (russh re-exports this same ssh-key version).
    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    pub fn info(&self) -> AdminKeyInfo {
        AdminKeyInfo {
            public_openssh: self.public_openssh.clone(),
            fingerprint: self.fingerprint.clone(),
            comment: self.comment(),
        }
    }
}

/// A new ed25519 key from the OS random source. Seeded by hand so an RNG
/// failure is an error, not the panic `UnwrapErr` would raise.
fn random_ed25519(comment: &str) -> Result<GeneratedKey, KeyError> {
    let mut seed = [0u8; 32];
    ssh_key::getrandom::SysRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| KeyError::Random(e.to_string()))?;
    let pair = Ed25519Keypair::from_seed(&seed);
    seed.fill(0);
    let key = PrivateKey::new(KeypairData::Ed25519(pair), comment)
        .map_err(|e| KeyError::Encoding(e.to_string()))?;
    GeneratedKey::from_private(key)
}

/// Only characters that keep the comment one printable token.
fn clean_fqdn(fqdn: &str) -> String {
    let s: String = fqdn
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    if s.is_empty() { "localhost".into() } else { s }
}

/// The operator's admin key, comment `catalyst@<fqdn>`.
pub fn generate_admin_key(fqdn: &str) -> Result<GeneratedKey, KeyError> {
    random_ed25519(&format!("catalyst@{}", clean_fqdn(fqdn)))
}

/// The control plane's SSH host key, made here so the app knows the host
/// fingerprint before the server exists and verifies the first connection.
pub fn generate_host_key(fqdn: &str) -> Result<GeneratedKey, KeyError> {
    random_ed25519(&format!("root@{}", clean_fqdn(fqdn)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_key_has_comment_fingerprint_and_reloads_identically() {
        let k = generate_admin_key("omantel.openova.io").unwrap();
        assert!(k.public_openssh().starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
        assert!(k.public_openssh().ends_with(" catalyst@omantel.openova.io"));
        assert!(k.fingerprint().starts_with("SHA256:"));
        assert_eq!(k.fingerprint().len(), "SHA256:".len() + 43);
        let text = k.private_openssh().unwrap();
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        let again = GeneratedKey::from_private_openssh(&text).unwrap();
        assert_eq!(again.public_openssh(), k.public_openssh());
        assert_eq!(again.fingerprint(), k.fingerprint());
        assert!(!format!("{k:?}").contains("PRIVATE"));
        // The private text, and each of its lines, is registered for redaction.
        let last_body_line = text.lines().rev().nth(1).unwrap();
        assert_eq!(crate::secrets::redact(last_body_line), "[REDACTED]");
        assert!(!crate::secrets::redact(&text).contains(last_body_line));
    }

    #[test]
    fn two_keys_differ_and_host_key_is_root_at_fqdn() {
        let a = generate_host_key("a.example").unwrap();
        let b = generate_host_key("a.example").unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(a.public_openssh().ends_with(" root@a.example"));
        // Odd input never breaks the comment into several tokens.
        let odd = generate_admin_key(" we ird\n\"x").unwrap();
        assert!(odd.public_openssh().ends_with(" catalyst@weirdx"));
        assert!(
            generate_admin_key("")
                .unwrap()
                .public_openssh()
                .ends_with(" catalyst@localhost")
        );
    }

    #[test]
    fn garbage_stored_keys_are_errors() {
        for bad in [
            "",
            "nope",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        ] {
            let e = GeneratedKey::from_private_openssh(bad).unwrap_err();
            assert_eq!(e.code(), "key_stored_unreadable");
        }
    }
}
