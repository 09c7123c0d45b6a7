//! The wizard: answers model, per-step validation, name rules and the
//! changes that reset dependent answers.
pub mod change;
pub mod model;
pub mod names;
pub mod recheck;
pub mod sshkey;
pub mod validate;

pub use model::{Step, WizardAnswers};
pub use validate::{Context, FieldError, validate_step};
