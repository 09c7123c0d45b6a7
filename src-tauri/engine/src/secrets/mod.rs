//! Secrets: the OS keyring store, the names of its entries, and the
//! redaction registry every value loaded from the keyring is added to.
pub mod names;
pub mod redact;
pub mod store;

pub use redact::{RedactingWriter, redact, register_secret};
pub use store::{GivenSecrets, KeyringBackend, MemoryStore, OsKeyring, SecretEnv, SecretError, SecretStore};
