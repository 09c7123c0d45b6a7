//! "Open console" on a Done card: a handover token signed with the
//! deployment's key (crate::handover), for the console's first login,
//! opened in the system browser by the window's adapter, or handed to the
//! front end to open when there is none (a browser over the bridge).

use std::sync::Arc;

use crate::Engine;
use crate::error::{ApiError, ErrorCode};
use crate::handover::{ConsoleHandover, HandoverClaims, HandoverKey};
use crate::provision::IdArgs;
use crate::secrets::names;
use crate::store::deployments::RunStatus;

/// Opens a URL in the operator's browser.
pub trait UrlOpener {
    fn open_url(&self, url: &str) -> Result<(), String>;
}

impl Engine {
    pub fn set_url_opener(&self, opener: Arc<dyn UrlOpener + Send + Sync>) {
        *self.url_opener.write().unwrap_or_else(|e| e.into_inner()) = Some(opener);
    }

    /// Signs a first-login token for a live Sovereign that is done and opens
    /// `https://console.<fqdn>/auth/handover?token=…`.
    pub async fn deployment_console_open(&self, args: IdArgs) -> Result<ConsoleHandover, ApiError> {
        let record = self.deployment_get(IdArgs { id: args.id.clone() }).await?;
        if record.demo.is_some() {
            return Err(ApiError::new(
                ErrorCode::NotRunning,
                "A demo Sovereign has no console to sign in to.",
            ));
        }
        if record.status != RunStatus::Done {
            return Err(ApiError::new(
                ErrorCode::NotRunning,
                "The console opens once the run is done.",
            ));
        }
        let text = self.secret(&names::handover_key(&record.id)).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::KeyringFailed,
                "This deployment's handover key is not in the keyring, so the app cannot sign you in; open the console and sign in through Keycloak instead.",
            )
        })?;
        let key = HandoverKey::from_secret(&text)
            .map_err(|e| ApiError::new(ErrorCode::KeyringFailed, format!("{e}.")))?;
        let now = time::OffsetDateTime::now_utc();
        let claims = HandoverClaims::new(
            &record.fqdn,
            &record.id,
            record.answers.domain.admin_email.trim(),
            now.unix_timestamp(),
        );
        let expires_at = time::OffsetDateTime::from_unix_timestamp(claims.exp)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        let token = key.sign(&claims);
        // Tests point the console elsewhere; the audience stays the real name.
        let console = self
            .current_settings()
            .overrides
            .console_url_override
            .clone()
            .or(record.outputs.console_url.clone())
            .unwrap_or_else(|| format!("https://console.{}", record.fqdn));
        let url = format!(
            "{}/auth/handover?token={}",
            console.trim_end_matches('/'),
            token.expose()
        );
        let opener = self.url_opener.read().unwrap_or_else(|e| e.into_inner()).clone();
        let opened = match opener {
            Some(o) => {
                o.open_url(&url).map_err(|e| {
                    ApiError::new(
                        ErrorCode::Internal,
                        format!("The system browser could not be opened: {e}"),
                    )
                })?;
                true
            }
            None => false,
        };
        Ok(ConsoleHandover {
            console,
            url,
            opened,
            expires_at,
        })
    }
}
