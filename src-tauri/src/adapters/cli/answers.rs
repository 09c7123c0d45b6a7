//! Answers files: read as JSON or YAML, checked step by step with the
//! engine's `wizard_validate`, problems printed one per line.

use crate::engine::ErrorCode;
use std::path::Path;

use crate::engine::ValidateArgs;
use crate::engine::domain::DomainCheckArgs;
use crate::engine::wizard::model::DomainMode;
use crate::engine::wizard::{FieldError, Step, WizardAnswers};

use super::{EXIT_FAILED, EXIT_INVALID_ANSWERS};

/// Why an answers file cannot be used, and the exit code that says so.
pub struct Refused {
    pub code: u8,
    pub message: String,
}

/// Reads the answers: `.json` files as JSON, anything else as YAML (which
/// also reads JSON).
pub fn load(path: &Path) -> Result<WizardAnswers, Refused> {
    let text = std::fs::read_to_string(path).map_err(|e| Refused {
        code: EXIT_FAILED,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if is_json {
        serde_json::from_str::<WizardAnswers>(&text).map_err(|e| e.to_string())
    } else {
        serde_yaml_ng::from_str::<WizardAnswers>(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| Refused {
        code: EXIT_INVALID_ANSWERS,
        message: format!("{}: not a valid answers file: {e}", path.display()),
    })
}

/// Every problem of every step but Review (which repeats them all), as the
/// lines `Step: field: message`, from the engine's checks.
pub async fn problems(
    engine: &crate::engine::Engine,
    answers: &WizardAnswers,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    // A file has no availability answer: ask PDM (or the demo pool) here, as
    // the window does while the operator types, so the Domain step can pass.
    let mut answers = answers.clone();
    let mut pdm_failed = false;
    if let Some(fqdn) = answers.fqdn()
        && answers.domain.mode == DomainMode::Pool
        && answers
            .domain
            .availability
            .as_ref()
            .is_none_or(|c| c.fqdn != fqdn)
    {
        let args = DomainCheckArgs {
            pool: answers.domain.pool_domain.clone(),
            subdomain: answers.domain.subdomain.clone(),
        };
        match engine.domain_check(args).await {
            Ok(a) => answers.domain.availability = Some(a),
            // A name the local rule refuses is reported by validation below.
            Err(e) if e.code == ErrorCode::UnsupportedPool => {}
            Err(e) => {
                pdm_failed = true;
                lines.push(format!(
                    "{}: domain.subdomain: {}",
                    Step::Domain.title(),
                    e.message
                ));
            }
        }
    }
    for step in &Step::ALL[..6] {
        let args = ValidateArgs {
            step: *step,
            answers: answers.clone(),
        };
        let errors: Vec<FieldError> = engine.wizard_validate(args).await.map_err(|e| e.message)?;
        lines.extend(
            errors
                .into_iter()
                // PDM's own failure was said above; "checking…" adds nothing.
                .filter(|err| {
                    !(pdm_failed
                        && err.field == "domain.subdomain"
                        && err.message.starts_with("Checking whether"))
                })
                .map(|err| format!("{}: {}: {}", step.title(), err.field, err.message)),
        );
    }
    Ok(lines)
}
