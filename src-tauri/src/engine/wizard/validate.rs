//! Per-field validation. Messages are written for the operator and shown next
//! to the field named by `field` (a dotted path into `WizardAnswers`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::model::{Step, WizardAnswers};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldError {
    /// Dotted path into the answers, e.g. `organisation.name` or `regions.1.location`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Validates one step of the answers. An empty list means the step may be left.
pub fn validate_step(step: Step, answers: &WizardAnswers) -> Vec<FieldError> {
    match step {
        Step::Organisation => organisation(answers),
        Step::Topology => topology(answers),
        // The remaining steps are filled in by the wizard issue; until then
        // they accept what the defaults hold so the shell can be walked.
        Step::Provider | Step::Credentials | Step::Components | Step::Domain | Step::Review => Vec::new(),
    }
}

fn organisation(a: &WizardAnswers) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = a.organisation.name.trim();
    let len = name.chars().count();
    if len == 0 {
        errors.push(FieldError::new(
            "organisation.name",
            "Enter your organisation's name.",
        ));
    } else if len < 2 {
        errors.push(FieldError::new(
            "organisation.name",
            "The organisation name needs at least 2 characters.",
        ));
    } else if len > 100 {
        errors.push(FieldError::new(
            "organisation.name",
            format!("The organisation name can have at most 100 characters (it has {len})."),
        ));
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "organisation.name",
            "The organisation name cannot contain control characters.",
        ));
    }
    if a.organisation.headquarters.chars().count() > 100 {
        errors.push(FieldError::new(
            "organisation.headquarters",
            "Headquarters can have at most 100 characters.",
        ));
    }
    errors
}

fn topology(a: &WizardAnswers) -> Vec<FieldError> {
    let want = a.topology.region_count();
    if a.regions.len() != want {
        return vec![FieldError::new(
            "regions",
            format!(
                "This topology needs {want} region(s); {} are set up.",
                a.regions.len()
            ),
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_name(name: &str) -> WizardAnswers {
        let mut a = WizardAnswers::defaults();
        a.organisation.name = name.into();
        a
    }

    #[test]
    fn organisation_name_rules() {
        let cases: &[(&str, Option<&str>)] = &[
            ("", Some("Enter your organisation's name.")),
            ("   ", Some("Enter your organisation's name.")),
            ("A", Some("The organisation name needs at least 2 characters.")),
            ("Om", None),
            ("Omantel", None),
            ("Ünïcödé GmbH", None),
            (
                "bad\u{7}name",
                Some("The organisation name cannot contain control characters."),
            ),
        ];
        for (name, want) in cases {
            let errs = validate_step(Step::Organisation, &with_name(name));
            match want {
                None => assert!(errs.is_empty(), "{name:?} should pass, got {errs:?}"),
                Some(msg) => {
                    assert_eq!(errs.len(), 1, "{name:?}: {errs:?}");
                    assert_eq!(errs[0].field, "organisation.name");
                    assert_eq!(errs[0].message, *msg);
                }
            }
        }
        let long = "x".repeat(101);
        let errs = validate_step(Step::Organisation, &with_name(&long));
        assert_eq!(
            errs[0].message,
            "The organisation name can have at most 100 characters (it has 101)."
        );
        assert!(validate_step(Step::Organisation, &with_name(&"x".repeat(100))).is_empty());
    }

    #[test]
    fn defaults_leave_the_name_empty_and_fail_step_one() {
        let a = WizardAnswers::defaults();
        assert_eq!(a.organisation.name, "");
        assert_eq!(validate_step(Step::Organisation, &a).len(), 1);
        assert!(validate_step(Step::Topology, &a).is_empty());
    }

    #[test]
    fn topology_needs_matching_regions() {
        let mut a = WizardAnswers::defaults();
        a.topology = super::super::model::Topology::Dual;
        let errs = validate_step(Step::Topology, &a);
        assert_eq!(errs[0].field, "regions");
    }
}
