//! The run's secrets in the keyring: the deployment's copies of the
//! wizard's, and those the run generates once and keeps (host key, k3s
//! token, state passphrase). Every value read is registered for redaction.

use crate::keys::GeneratedKey;
use crate::provision::context::Stop;
use crate::provision::run_secrets;
use crate::secrets::names;
use crate::secrets::redact::register_secret;

use super::LiveCloud;
use super::hints::fail;

impl LiveCloud {
    /// The deployment's own copy of a wizard secret (see run_secrets).
    pub(super) async fn run_secret(
        &self,
        name_of: run_secrets::NameOf,
        id: &str,
    ) -> Result<Option<String>, Stop> {
        let store = self.secrets.clone();
        let id = id.to_owned();
        self.read_secret(move || run_secrets::lookup(store.as_ref(), name_of, &id))
            .await
    }

    pub(super) async fn secret(&self, name: &str) -> Result<Option<String>, Stop> {
        let store = self.secrets.clone();
        let n = name.to_owned();
        self.read_secret(move || store.get(&n)).await
    }

    pub(super) async fn read_secret(
        &self,
        read: impl FnOnce() -> Result<Option<String>, crate::secrets::SecretError> + Send + 'static,
    ) -> Result<Option<String>, Stop> {
        let got = tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| fail(format!("The keyring call stopped: {e}"), "Resume retries."))?;
        match got {
            Ok(v) => {
                if let Some(v) = &v {
                    register_secret(v);
                }
                Ok(v)
            }
            Err(e) => Err(fail(
                format!("The keyring could not be read: {}", e.operator_message()),
                "Unlock the keyring (or start its service), then Resume.",
            )),
        }
    }

    pub(super) async fn set_secret(&self, name: &str, value: &str) -> Result<(), Stop> {
        register_secret(value);
        let store = self.secrets.clone();
        let (n, v) = (name.to_owned(), value.to_owned());
        let done = tokio::task::spawn_blocking(move || store.set(&n, &v))
            .await
            .map_err(|e| fail(format!("The keyring call stopped: {e}"), "Resume retries."))?;
        done.map_err(|e| {
            fail(
                format!("The keyring could not be written: {}", e.operator_message()),
                "Unlock the keyring (or start its service), then Resume.",
            )
        })
    }

    /// The secret under `name`, made by `make` and stored the first time.
    pub(super) async fn kept_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<String, Stop>,
    ) -> Result<String, Stop> {
        if let Some(v) = self.secret(name).await?.filter(|v| !v.is_empty()) {
            return Ok(v);
        }
        let v = make()?;
        self.set_secret(name, &v).await?;
        Ok(v)
    }

    pub(super) async fn hetzner_token(&self, id: &str) -> Result<String, Stop> {
        self.run_secret(names::hetzner_token, id)
            .await?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                fail(
                    "No Hetzner token is in the keyring.",
                    "Go back to the Credentials step, check the token again, then Resume.",
                )
            })
    }

    pub(super) async fn host_key(&self, id: &str, fqdn: &str) -> Result<GeneratedKey, Stop> {
        let name = names::host_private_key(id);
        let fqdn = fqdn.to_owned();
        let text = self
            .kept_secret(&name, move || {
                let key = crate::keys::generate_host_key(&fqdn).map_err(|e| {
                    fail(
                        format!("The host key could not be generated: {e}"),
                        "Resume retries.",
                    )
                })?;
                let text = key.private_openssh().map_err(|e| {
                    fail(
                        format!("The host key could not be encoded: {e}"),
                        "Resume retries.",
                    )
                })?;
                Ok(text.to_string())
            })
            .await?;
        GeneratedKey::from_private_openssh(&text).map_err(|e| {
            fail(
                format!("The host key in the keyring ({name}) cannot be read: {e}"),
                "Wipe this deployment and start a new run.",
            )
        })
    }
}
