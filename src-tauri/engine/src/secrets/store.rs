//! Where secrets live: the OS keyring (Keychain, Credential Manager, Secret
//! Service, or the kernel keyutils keyring where no Secret Service runs), or
//! memory in tests. Every value that passes through is registered for log
//! redaction, and reaches a child process only through its environment.

use crate::error::ErrorCode;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use super::names;
use super::register_secret;

/// The keyring "service" every entry is filed under (the app identifier).
pub const KEYRING_SERVICE: &str = "io.openova.catalyst-provisioner";
/// Longest secret stored; Windows Credential Manager holds 2560 bytes and an
/// ed25519 private key in OpenSSH format is about 400.
pub const MAX_SECRET_LEN: usize = 2560;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("\"{0}\" is not a valid secret name")]
    InvalidName(String),
    #[error("the secret {0} is empty")]
    Empty(String),
    #[error("the secret {name} is {len} bytes, more than the {max} the keyring holds")]
    TooLarge { name: String, len: usize, max: usize },
    #[error("the secret {0} is not stored")]
    Missing(String),
    #[error("\"{0}\" is not a valid environment variable name")]
    InvalidEnvName(String),
    /// The keyring could not be used (no Secret Service, locked, refused).
    #[error("the {backend} keyring is not usable: {detail}")]
    Unavailable { backend: String, detail: String },
}

impl SecretError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SecretError::InvalidName(_) => ErrorCode::SecretInvalidName,
            SecretError::Empty(_) => ErrorCode::SecretEmpty,
            SecretError::TooLarge { .. } => ErrorCode::SecretTooLarge,
            SecretError::Missing(_) => ErrorCode::SecretMissing,
            SecretError::InvalidEnvName(_) => ErrorCode::SecretInvalidEnvName,
            SecretError::Unavailable { .. } => ErrorCode::KeyringUnavailable,
        }
    }

    pub fn operator_message(&self) -> String {
        match self {
            SecretError::Unavailable { backend, .. } if *backend == KeyringBackend::Keyutils.to_string() => {
                format!(
                    "The kernel keyring could not be used ({self}). This process has no session keyring \
                     it may write to: a login without a desktop session often hands on one that refuses \
                     writes. Start the app in a desktop session (GNOME Keyring or KWallet), or in a \
                     session keyring of its own: `keyctl session - catalyst-provisioner`."
                )
            }
            SecretError::Unavailable { .. } => format!(
                "The system keyring could not be used ({self}). On Linux, make sure a keyring such as GNOME \
                 Keyring or KWallet is running and unlocked, then try again."
            ),
            SecretError::Missing(_) => {
                format!("A saved secret is gone ({self}); enter it again in the wizard.")
            }
            _ => format!("The secret could not be handled: {self}."),
        }
    }
}

impl From<SecretError> for crate::error::ApiError {
    fn from(e: SecretError) -> Self {
        crate::error::ApiError::new(e.code(), e.operator_message())
    }
}

/// Names are file-name-like so every backend stores them unchanged.
pub fn validate_name(name: &str) -> Result<(), SecretError> {
    let ok = name.len() <= 200
        && name.split('/').all(|seg| {
            // No empty, hidden or `..` segments: a name never walks a path.
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if ok {
        Ok(())
    } else {
        Err(SecretError::InvalidName(name.chars().take(60).collect()))
    }
}

fn validate_value(name: &str, value: &str) -> Result<(), SecretError> {
    if value.is_empty() {
        return Err(SecretError::Empty(name.to_owned()));
    }
    if value.len() > MAX_SECRET_LEN {
        return Err(SecretError::TooLarge {
            name: name.to_owned(),
            len: value.len(),
            max: MAX_SECRET_LEN,
        });
    }
    Ok(())
}

/// Secrets by name. Calls may block (D-Bus), so async code calls them
/// through `tokio::task::spawn_blocking`.
pub trait SecretStore: Send + Sync {
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError>;
    /// `Ok(None)` when nothing is stored under the name.
    fn get(&self, name: &str) -> Result<Option<String>, SecretError>;
    /// `Ok(true)` when something was deleted.
    fn delete(&self, name: &str) -> Result<bool, SecretError>;
    /// Which backend holds the secrets, for the settings page and logs.
    fn backend(&self) -> String;
}

/// A store for a headless run, given its Hetzner token (`HCLOUD_TOKEN` or
/// stdin, as the hcloud CLI and provider take it) and perhaps the admin
/// private key (`--admin-key-file`) instead of finding them in the keyring:
/// a CI runner or a machine whose keyring does not hold the wizard's. Each
/// given secret stands for every name of its kind (the draft's and each
/// deployment's copy) and is kept in memory only: copying it to a
/// deployment's name writes nothing. Everything else goes to the inner store.
pub struct GivenSecrets {
    inner: std::sync::Arc<dyn SecretStore>,
    given: Vec<(String, String)>,
    what: Vec<&'static str>,
}

impl GivenSecrets {
    pub fn new(inner: std::sync::Arc<dyn SecretStore>) -> GivenSecrets {
        GivenSecrets {
            inner,
            given: Vec::new(),
            what: Vec::new(),
        }
    }

    /// The Hetzner token for every deployment; `source` names where it came from.
    pub fn with_token(self, token: String, source: &'static str) -> GivenSecrets {
        self.with(names::hetzner_token(""), token, source)
    }

    /// The cluster's own Hetzner token (`cluster_token: separate`) for every deployment.
    pub fn with_cluster_token(self, token: String) -> GivenSecrets {
        self.with(
            names::cluster_token(""),
            token,
            "cluster token from HCLOUD_CLUSTER_TOKEN",
        )
    }

    /// The admin private key (OpenSSH text) for every deployment.
    pub fn with_admin_key(self, key: String) -> GivenSecrets {
        self.with(
            names::admin_private_key(""),
            key,
            "admin key from --admin-key-file",
        )
    }

    /// The registrar API credential (own domain through its API) for every deployment.
    pub fn with_registrar(self, credential: String) -> GivenSecrets {
        self.with(
            names::registrar(""),
            credential,
            "registrar credential from CATALYST_REGISTRAR_CREDENTIAL",
        )
    }

    fn with(mut self, prefix: String, value: String, what: &'static str) -> GivenSecrets {
        register_secret(&value);
        self.given.push((prefix, value));
        self.what.push(what);
        self
    }

    fn given(&self, name: &str) -> Option<&str> {
        self.given
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map(|(_, v)| v.as_str())
    }
}

impl SecretStore for GivenSecrets {
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        match self.given(name) {
            // Already known for every deployment: nothing to keep.
            Some(v) if v == value => Ok(()),
            _ => self.inner.set(name, value),
        }
    }

    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        match self.given(name) {
            Some(v) => Ok(Some(v.to_owned())),
            None => self.inner.get(name),
        }
    }

    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        self.inner.delete(name)
    }

    fn backend(&self) -> String {
        format!("{} ({})", self.inner.backend(), self.what.join(", "))
    }
}

/// Secrets in memory only: tests, and demo mode.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<String, String>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl SecretStore for MemoryStore {
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        validate_name(name)?;
        validate_value(name, value)?;
        register_secret(value);
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), value.to_owned());
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        validate_name(name)?;
        let v = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned();
        if let Some(v) = &v {
            register_secret(v);
        }
        Ok(v)
    }

    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        validate_name(name)?;
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
            .is_some())
    }

    fn backend(&self) -> String {
        "memory".into()
    }
}

/// Which OS store holds the secrets. Chosen explicitly: keyring 3.6 picks
/// Secret Service whenever its feature is on, even on a machine without a
/// D-Bus session, where every call then fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringBackend {
    /// freedesktop Secret Service over D-Bus (GNOME Keyring, KWallet).
    SecretService,
    /// Linux kernel keyutils: the session keyring, lost at reboot.
    Keyutils,
    /// The platform's own store: macOS Keychain, Windows Credential Manager.
    Native,
}

impl fmt::Display for KeyringBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyringBackend::SecretService => "Secret Service",
            KeyringBackend::Keyutils => "kernel keyutils",
            KeyringBackend::Native if cfg!(target_os = "macos") => "macOS Keychain",
            KeyringBackend::Native if cfg!(windows) => "Windows Credential Manager",
            KeyringBackend::Native => "platform",
        })
    }
}

/// Secrets in the OS keyring.
pub struct OsKeyring {
    backend: KeyringBackend,
    service: String,
    /// Secret Service does not like concurrent calls from one process.
    lock: Mutex<()>,
    /// `detect` found that the store refuses to keep an entry.
    refuses_writes: bool,
}

/// keyutils reports a session keyring that refuses writes (EACCES, e.g. an
/// inherited `_uid_ses` keyring) as "no entry"; this is what it means.
const KEYUTILS_REFUSED: &str = "the session keyring refused to store an entry";

impl OsKeyring {
    pub fn new(backend: KeyringBackend, service: &str) -> OsKeyring {
        OsKeyring {
            backend,
            service: service.to_owned(),
            lock: Mutex::new(()),
            refuses_writes: false,
        }
    }

    /// The store for this machine: on Linux Secret Service when a D-Bus
    /// session answers, the kernel keyring otherwise; elsewhere the
    /// platform's own.
    pub fn detect(service: &str) -> OsKeyring {
        let backend = if cfg!(target_os = "linux") {
            let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty());
            if has_bus && Self::new(KeyringBackend::SecretService, service).probe().is_ok() {
                KeyringBackend::SecretService
            } else {
                KeyringBackend::Keyutils
            }
        } else {
            KeyringBackend::Native
        };
        tracing::info!(backend = %backend, "secret store chosen");
        let mut store = Self::new(backend, service);
        // A kernel keyring answers reads even when it refuses writes, so try
        // one: a syscall, cheap. (A Secret Service write could pop up an
        // unlock prompt at start; its errors say enough when they come.)
        if backend == KeyringBackend::Keyutils
            && let Err(e) = store.probe_write()
        {
            tracing::warn!(error = %e, "{}", e.operator_message());
            store.refuses_writes = true;
        }
        store
    }

    /// Whether `detect` found that this store refuses to keep an entry.
    pub fn refuses_writes(&self) -> bool {
        self.refuses_writes
    }

    /// Stores and removes a probe entry: proves the store keeps what it is given.
    pub fn probe_write(&self) -> Result<(), SecretError> {
        const PROBE: &str = "probe/catalyst-write";
        self.set(PROBE, "catalyst-write-probe")?;
        self.delete(PROBE).map(|_| ())
    }

    pub fn kind(&self) -> KeyringBackend {
        self.backend
    }

    /// Reads an entry that does not exist: proves the store answers.
    pub fn probe(&self) -> Result<(), SecretError> {
        self.get("probe/catalyst-availability").map(|_| ())
    }

    fn unavailable(&self, detail: impl fmt::Display) -> SecretError {
        SecretError::Unavailable {
            backend: self.backend.to_string(),
            detail: detail.to_string(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        let made = match self.backend {
            #[cfg(target_os = "linux")]
            KeyringBackend::SecretService => {
                keyring::secret_service::SsCredential::new_with_target(None, &self.service, name)
                    .map(|c| keyring::Entry::new_with_credential(Box::new(c)))
            }
            #[cfg(target_os = "linux")]
            KeyringBackend::Keyutils => {
                keyring::keyutils::KeyutilsCredential::new_with_target(None, &self.service, name)
                    .map(|c| keyring::Entry::new_with_credential(Box::new(c)))
            }
            #[cfg(not(target_os = "linux"))]
            KeyringBackend::SecretService | KeyringBackend::Keyutils => {
                return Err(self.unavailable("this store exists on Linux only"));
            }
            KeyringBackend::Native => keyring::Entry::new(&self.service, name),
        };
        made.map_err(|e| self.unavailable(e))
    }
}

impl SecretStore for OsKeyring {
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        validate_name(name)?;
        validate_value(name, value)?;
        register_secret(value);
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match self.entry(name)?.set_password(value) {
            Ok(()) => Ok(()),
            Err(keyring::Error::NoEntry) if self.backend == KeyringBackend::Keyutils => {
                Err(self.unavailable(KEYUTILS_REFUSED))
            }
            Err(keyring::Error::NoEntry) => Err(self.unavailable("the keyring refused to store the entry")),
            Err(e) => Err(self.unavailable(e)),
        }
    }

    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        validate_name(name)?;
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match self.entry(name)?.get_password() {
            Ok(v) => {
                register_secret(&v);
                Ok(Some(v))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.unavailable(e)),
        }
    }

    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        validate_name(name)?;
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.unavailable(e)),
        }
    }

    fn backend(&self) -> String {
        self.backend.to_string()
    }
}

/// Secrets for one child process (tofu), handed over only through its
/// environment; nothing is written to a file. Debug shows names only.
#[derive(Default, Clone)]
pub struct SecretEnv {
    vars: BTreeMap<String, String>,
}

impl fmt::Debug for SecretEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

fn valid_env_name(n: &str) -> bool {
    let mut b = n.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_uppercase() || c == b'_')
        && b.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

impl SecretEnv {
    pub fn new() -> SecretEnv {
        SecretEnv::default()
    }

    /// Loads each `(ENV_VAR, secret name)` from the store; a missing secret
    /// is an error, since the child would fail later with a worse message.
    pub fn from_store(store: &dyn SecretStore, wanted: &[(&str, &str)]) -> Result<SecretEnv, SecretError> {
        let mut env = SecretEnv::new();
        for (var, name) in wanted {
            let value = store
                .get(name)?
                .ok_or_else(|| SecretError::Missing((*name).to_owned()))?;
            env.insert(var, value)?;
        }
        Ok(env)
    }

    pub fn insert(&mut self, var: &str, value: String) -> Result<(), SecretError> {
        if !valid_env_name(var) {
            return Err(SecretError::InvalidEnvName(var.to_owned()));
        }
        register_secret(&value);
        self.vars.insert(var.to_owned(), value);
        Ok(())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    /// The map to pass as the child's environment.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// Adds the variables to a command's environment.
    pub fn apply<'c>(&self, cmd: &'c mut tokio::process::Command) -> &'c mut tokio::process::Command {
        cmd.envs(&self.vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_secrets_stand_for_every_deployment_and_are_never_written() {
        let inner = std::sync::Arc::new(MemoryStore::new());
        let s = GivenSecrets::new(inner.clone())
            .with_token(
                "given-token-aaaaaaaaaaaaaaaaaaaa".into(),
                "Hetzner token from HCLOUD_TOKEN",
            )
            .with_admin_key("given-key-bbbbbbbbbbbbbbbbbbbbbb".into());
        let tok = names::hetzner_token("d-1");
        assert_eq!(
            s.get(&tok).unwrap().as_deref(),
            Some("given-token-aaaaaaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            s.get(&names::admin_private_key("draft")).unwrap().as_deref(),
            Some("given-key-bbbbbbbbbbbbbbbbbbbbbb")
        );
        // The run copying it to its own name keeps nothing in the keyring.
        s.set(&tok, "given-token-aaaaaaaaaaaaaaaaaaaa").unwrap();
        assert_eq!(inner.get(&tok).unwrap(), None);
        // Other secrets go to the keyring as ever.
        s.set(&names::host_private_key("d-1"), "host").unwrap();
        assert_eq!(
            inner.get(&names::host_private_key("d-1")).unwrap().as_deref(),
            Some("host")
        );
        assert!(s.backend().contains("HCLOUD_TOKEN") && s.backend().contains("--admin-key-file"));
    }

    /// The same contract for every store.
    pub(crate) fn exercise(store: &dyn SecretStore, prefix: &str) {
        let name = format!("{prefix}/contract");
        let value = format!("contract-secret-{}", uuid::Uuid::new_v4());
        let _ = store.delete(&name);
        assert_eq!(store.get(&name).unwrap(), None);
        store.set(&name, &value).unwrap();
        assert_eq!(store.get(&name).unwrap().as_deref(), Some(value.as_str()));
        // Overwrite keeps one entry with the new value.
        store.set(&name, "contract-second-value").unwrap();
        assert_eq!(
            store.get(&name).unwrap().as_deref(),
            Some("contract-second-value")
        );
        assert!(store.delete(&name).unwrap());
        assert!(!store.delete(&name).unwrap());
        assert_eq!(store.get(&name).unwrap(), None);
        assert_eq!(super::super::redact(&format!("x {value} y")), "x [REDACTED] y");
        assert_eq!(store.set(&name, "").unwrap_err().code(), "secret_empty");
        assert_eq!(
            store.set("../etc", "v-123456").unwrap_err().code(),
            "secret_invalid_name"
        );
        assert_eq!(store.get("a b").unwrap_err().code(), "secret_invalid_name");
        let big = "x".repeat(MAX_SECRET_LEN + 1);
        assert_eq!(store.set(&name, &big).unwrap_err().code(), "secret_too_large");
    }

    #[test]
    fn memory_store_keeps_the_contract() {
        exercise(&MemoryStore::new(), "hetzner-token");
    }

    #[test]
    fn names_are_validated() {
        for ok in ["hetzner-token/draft", "admin-key/dep-1.a_b", "x"] {
            validate_name(ok).unwrap();
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "../x",
            "a/.hidden",
            "a b",
            "ä",
            "a\nb",
            &"a".repeat(201),
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(names::hetzner_token("draft"), "hetzner-token/draft");
    }

    #[tokio::test]
    async fn secrets_reach_a_child_through_its_environment_only() {
        let store = MemoryStore::new();
        store
            .set(&names::hetzner_token("d1"), "env-canary-5b0e7d2a91")
            .unwrap();
        let env = SecretEnv::from_store(&store, &[("HCLOUD_TOKEN", "hetzner-token/d1")]).unwrap();
        assert_eq!(format!("{env:?}"), "{\"HCLOUD_TOKEN\"}");
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg("printf %s \"$HCLOUD_TOKEN\"").env_clear();
        env.apply(&mut cmd);
        let out = cmd.output().await.unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "env-canary-5b0e7d2a91");
        let missing = SecretEnv::from_store(&store, &[("HCLOUD_TOKEN", "hetzner-token/none")]).unwrap_err();
        assert_eq!(missing.code(), "secret_missing");
        assert_eq!(
            SecretEnv::new().insert("lower", "v".into()).unwrap_err().code(),
            "secret_invalid_env_name"
        );
        assert_eq!(
            SecretEnv::new().insert("1X", "v".into()).unwrap_err().code(),
            "secret_invalid_env_name"
        );
    }

    /// The real OS keyring, once. Needs a keyring session, so it runs only
    /// under scripts/keyring-test.sh (CATALYST_KEYRING_TEST=1), which starts
    /// a D-Bus session with gnome-keyring, or a fresh keyutils session.
    #[test]
    fn os_keyring_round_trip() {
        if std::env::var("CATALYST_KEYRING_TEST").as_deref() != Ok("1") {
            println!(
                "skipped: set CATALYST_KEYRING_TEST=1 (scripts/keyring-test.sh) to use the real OS keyring"
            );
            return;
        }
        let want = std::env::var("CATALYST_KEYRING_BACKEND").unwrap_or_default();
        let store = OsKeyring::detect("io.openova.catalyst-provisioner.test");
        let expected = match want.as_str() {
            "secret-service" => KeyringBackend::SecretService,
            "keyutils" => KeyringBackend::Keyutils,
            _ => store.kind(),
        };
        assert_eq!(store.kind(), expected, "detect() chose {}", store.backend());
        assert!(
            !store.refuses_writes(),
            "detect() found {} refusing writes",
            store.backend()
        );
        println!("OS keyring backend: {}", store.backend());
        exercise(&store, "test-run");
        // A second store object sees what the first wrote: it is the OS
        // store, not an object-local mock.
        let other = OsKeyring::new(store.kind(), "io.openova.catalyst-provisioner.test");
        store.set("test-run/shared", "shared-secret-value-1").unwrap();
        assert_eq!(
            other.get("test-run/shared").unwrap().as_deref(),
            Some("shared-secret-value-1")
        );
        assert!(other.delete("test-run/shared").unwrap());
    }

    /// Run by scripts/keyring-test.sh in a fresh session keyring whose write
    /// permission was taken away (`keyctl setperm @s 0x3b0b0000`), as an
    /// inherited `_uid_ses` keyring can be: detect() still picks keyutils
    /// (there is no other store) but knows it refuses writes, and a write
    /// fails with a keyutils sentence, not the Secret Service one.
    #[test]
    fn keyutils_refusing_writes_is_found_at_detect_and_explained() {
        if std::env::var("CATALYST_KEYRING_TEST").as_deref() != Ok("1")
            || std::env::var("CATALYST_KEYRING_BACKEND").as_deref() != Ok("keyutils-refusing")
        {
            println!("skipped: run by scripts/keyring-test.sh in a session keyring refusing writes");
            return;
        }
        let store = OsKeyring::detect("io.openova.catalyst-provisioner.test");
        assert_eq!(store.kind(), KeyringBackend::Keyutils);
        assert!(store.refuses_writes(), "detect() missed the refusing keyring");
        let e = store
            .set("test-run/refused", "refused-secret-value-1")
            .unwrap_err();
        assert_eq!(e.code(), "keyring_unavailable");
        let msg = e.operator_message();
        println!("{msg}");
        assert!(msg.contains("keyctl session - catalyst-provisioner"), "{msg}");
        assert!(msg.contains(KEYUTILS_REFUSED), "{msg}");
        assert_eq!(store.get("test-run/refused").unwrap(), None);
    }
}
