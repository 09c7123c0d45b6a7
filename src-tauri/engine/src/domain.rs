//! The Domain step's questions to the outside world: is a pool subdomain
//! free, and which nameservers an own domain must point to. Demo mode
//! answers from the simulated pool; live mode asks PDM.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Engine;
use super::pdm::Availability;
use super::settings::Mode;
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DomainCheckArgs {
    pub pool: String,
    pub subdomain: String,
}

impl Engine {
    pub async fn domain_check(&self, args: DomainCheckArgs) -> Result<Availability, ApiError> {
        if !self.current_settings().pools().contains(&args.pool) {
            return Err(ApiError {
                code: ErrorCode::UnsupportedPool,
                message: format!("\"{}\" is not one of the pool domains offered.", args.pool),
                field: Some("domain.pool_domain".into()),
            });
        }
        match self.mode() {
            Mode::Demo => Ok(super::demo::pdm::check(&args.pool, &args.subdomain)),
            Mode::Live => {
                let client = self.pdm_client().await?;
                client
                    .check(&args.pool, &args.subdomain)
                    .await
                    .map_err(ApiError::from)
            }
        }
    }
}

impl Engine {
    /// What PDM says now about the answers' pool name (`None` when the answers
    /// do not name a checkable pool subdomain: validation says why). A PDM
    /// that cannot answer is an error about the subdomain field.
    pub(crate) async fn availability_now(
        &self,
        answers: &super::wizard::WizardAnswers,
    ) -> Result<Option<Availability>, ApiError> {
        let d = &answers.domain;
        if d.mode != super::wizard::model::DomainMode::Pool
            || super::pdm::check_label(&d.subdomain).is_err()
            || !self.current_settings().pools().contains(&d.pool_domain)
        {
            return Ok(None);
        }
        let args = DomainCheckArgs {
            pool: d.pool_domain.clone(),
            subdomain: d.subdomain.clone(),
        };
        self.domain_check(args).await.map(Some).map_err(|mut e| {
            e.field = Some("domain.subdomain".into());
            e
        })
    }

    /// The PDM client from settings; its password comes from the keyring.
    async fn pdm_client(&self) -> Result<super::pdm::PdmClient, ApiError> {
        let settings = self.current_settings();
        let Some(pdm) = &settings.pdm else {
            return Err(ApiError {
                code: ErrorCode::PdmUnconfigured,
                message: "No pool-domain-manager is configured in the settings. Use your own domain, or add PDM's address in Settings.".into(),
                field: Some("domain.subdomain".into()),
            });
        };
        let password = self
            .secret(&settings.pdm_password_secret())
            .await?
            .unwrap_or_default();
        let config = super::pdm::PdmConfig::new(&pdm.url, &pdm.username, password);
        super::pdm::PdmClient::new(config).map_err(ApiError::from)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RegistrarArgs {
    pub registrar: super::pdm::RegistrarKind,
    pub domain: String,
    /// The registrar API credential; it goes to the keyring, never to answers.
    pub credential: String,
}

impl Engine {
    /// Checks the credential's shape locally, then with the registrar through
    /// PDM (demo: simulated), and keeps it in the keyring for the NS change.
    pub async fn registrar_validate(
        &self,
        args: RegistrarArgs,
    ) -> Result<super::pdm::RegistrarValidation, ApiError> {
        let field = Some("domain.registrar_credential".to_owned());
        let credential =
            super::pdm::check_credential(args.registrar, &args.credential).map_err(|e| ApiError {
                code: ErrorCode::RegistrarCredentialFormat,
                message: e.message,
                field: field.clone(),
            })?;
        super::secrets::register_secret(&credential);
        let result = match self.mode() {
            Mode::Demo => {
                let domain = super::pdm::check_domain(&args.domain).map_err(|m| ApiError {
                    code: ErrorCode::InvalidDomain,
                    message: m,
                    field: Some("domain.byo_domain".into()),
                })?;
                if credential.to_ascii_lowercase().contains("invalid") {
                    return Err(ApiError {
                        code: ErrorCode::RegistrarInvalidToken,
                        message: format!(
                            "{} rejected this credential. (Demo: credentials containing \"invalid\" act like this.)",
                            args.registrar
                        ),
                        field,
                    });
                }
                super::pdm::RegistrarValidation {
                    registrar: args.registrar,
                    domain,
                    valid: true,
                }
            }
            Mode::Live => {
                let client = self.pdm_client().await?;
                client
                    .registrar_validate(args.registrar, &args.domain, &credential)
                    .await
                    .map_err(ApiError::from)?
            }
        };
        self.set_secret(
            &crate::secrets::names::registrar(super::credentials::DRAFT_OWNER),
            &credential,
        )
        .await?;
        Ok(result)
    }
}
