//! The wizard: answers model and per-step validation.
pub mod model;
pub mod validate;

pub use model::{Step, WizardAnswers};
pub use validate::{FieldError, validate_step};
