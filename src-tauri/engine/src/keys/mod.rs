//! SSH keys: the generated admin and host keys (ed25519), the parser for
//! keys the operator pastes, the operator's agent that holds a pasted key's
//! private half, and the private-key export.

pub mod agent;
mod export;
mod generate;
mod parse;

pub use export::{SaveDialog, export_private_key, suggested_key_file_name};
pub use generate::{AdminKeyInfo, GeneratedKey, KeyError, generate_admin_key, generate_host_key};
pub use parse::{KeyAlgorithm, KeyParseError, ParsedPublicKey, parse_public_key};
