//! Secrets: the redaction registry (the keyring store arrives with the
//! Hetzner/keys issue and registers every value it loads here).
pub mod redact;
pub mod store;

pub use redact::{RedactingWriter, redact, register_secret};
pub use store::{
    KeyringBackend, MemoryStore, OsKeyring, SecretEnv, SecretError, SecretStore, TokenFromEnv, names,
};
