//! Stand-in for `terraform-provider-hcloud` (hetznercloud/hcloud), the
//! Terraform/OpenTofu provider the app's OpenTofu module uses, for tests
//! only. It speaks the real plugin protocol (tfplugin6 over go-plugin with
//! mTLS, through the `tf-provider` crate), so a real engine (OpenTofu, or
//! Terraform in tests) loads it from a filesystem mirror exactly like the
//! real provider, and talks to `HCLOUD_ENDPOINT` (the tests' fake Hetzner
//! API) with `HCLOUD_TOKEN`.
//!
//! It implements the resource types the module uses, generically per type
//! as the engine asks (plan, create, read, update, delete): the schemas
//! follow the real provider's (required / optional / computed, force-new
//! attributes planned as replacements, the same ids), every create, update
//! and delete is a real API call, mutating calls wait on their actions
//! (`GET /actions/{id}`), a 404 on read drops the object from state, and
//! API errors become diagnostics with the API's message and code.
//!
//! Differences from the real provider worth knowing: the real one is built
//! on the SDKv2 "legacy type system", which lets it plan values the engine
//! would otherwise refuse; this one is strict, so attributes with an SDK
//! `Default` are optional+computed here, and `user_data` is kept as given
//! (the real one stores a hash).

mod api;
mod provider;
mod resources;
mod value;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueEmpty;
use tf_provider::{map, serve, AttributePath, Diagnostics, DynamicResource, Provider, Resource};

// The modules share these imports and each other's items through
// `use crate::*`, as the single file they came from did.
use api::{ApiError, Client, R};
use provider::*;
use resources::*;
use value::{a, labels, list, set, with_default, Blk, Dyn, Ty, A, C, N, V};

fn main() -> anyhow::Result<()> {
    // Diagnostics carry a Rust backtrace when RUST_BACKTRACE is set; the
    // real provider's never do.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(serve(
        "hcloud",
        Hcloud {
            client: Arc::new(RwLock::new(None)),
        },
    ))
}
