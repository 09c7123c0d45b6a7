//! The admin public key as the wizard checks it: the keys module's parser,
//! so the step, the CLI and the run accept exactly the same keys.

pub fn check_public_key(text: &str) -> Result<(), String> {
    crate::keys::parse_public_key(text)
        .map(|_| ())
        .map_err(|e| e.message())
}
