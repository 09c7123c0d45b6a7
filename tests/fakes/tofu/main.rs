//! Stand-in for OpenTofu (`tofu`) in Catalyst Provisioner's tests.
//!
//! It answers the commands the app runs with OpenTofu's real `-json`
//! message stream and exit codes, evaluates the Catalyst Hetzner module's
//! inputs (the work dir's `terraform.tfvars.json` plus `TF_VAR_*`), and
//! creates/deletes the module's resources over HTTP in whatever answers at
//! `HCLOUD_ENDPOINT` (the fake Hetzner API), keeping its own state file so a
//! re-apply is idempotent and `destroy` deletes what it created.
//!
//! It is not an HCL evaluator: the resource set mirrors `main.tf` by hand.
//! Scripted failures come from `CATALYST_FAKE_TOFU_FAIL`. The module itself
//! meets a real engine (tests/fakes/real_engine.rs + the stand-in hcloud
//! provider); this stand-in is kept only for what a real engine cannot be
//! made to do on cue (see HELP).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

// One module per concern; they share this file's imports and each other's
// items through `use crate::*`, as the single file they came from did.
mod api;
mod apply;
mod args;
mod commands;
mod config;
mod faults;
mod provision;
mod resources;
mod signals;
mod state;
mod ui;

use api::*;
use apply::*;
use args::*;
use commands::*;
use config::*;
use faults::*;
use provision::*;
use resources::*;
use signals::*;
use state::*;
use ui::*;

const HELP: &str = "\
tofu (stand-in) — stands in for OpenTofu in Catalyst Provisioner's tests.
It is NOT OpenTofu: it speaks OpenTofu's machine-readable UI (-json) and
creates the Catalyst Hetzner module's resources in the API at HCLOUD_ENDPOINT.

Usage: tofu <command> [options]

Commands:
  version -json                    {\"terraform_version\": …}
  init -input=false -no-color [-json]
  plan -json -input=false -no-color -out=FILE
  apply -json -input=false -no-color FILE
  output -json -no-color
  destroy -json -input=false -no-color -auto-approve

Environment:
  HCLOUD_TOKEN, HCLOUD_ENDPOINT       the Hetzner API to use
  TF_CLI_CONFIG_FILE                  a filesystem_mirror `init` must find hcloud in
  TF_PLUGIN_CACHE_DIR                 `init` leaves the provider there (if it exists)
  TF_VAR_<name>                       variables (complex ones as HCL expressions)
  CATALYST_FAKE_TOFU_VERSION          version to report (default 1.10.5)
  CATALYST_FAKE_TOFU_FAIL             readonly | uniqueness | quota | hang |
                                      init-transient | init-config
  CATALYST_FAKE_TOFU_FAIL_TIMES       how often init-transient fails (default 1)
  CATALYST_FAKE_TOFU_HEARTBEAT_MS     apply_progress interval (default 10000)
  CATALYST_FAKE_TOFU_SHUTDOWN_MS      graceful-stop time after SIGINT (default 200)
  CATALYST_FAKE_TOFU_CREATE_DELAY_MS  apply: wait this long after each object is
                                      created before reporting it and saving state
  CATALYST_FAKE_TOFU_BURST            benchmarks: `apply` only writes this many
                                      log lines, each with its write time
  CATALYST_FAKE_TOFU_BURST_RATE       lines per second of the burst (default 0:
                                      as fast as it can)

Who still uses it, and why (everything else runs the real engine, Terraform
or CATALYST_REAL_TOFU, with the stand-in hcloud provider):
  tests/tofu.rs        the runner on cue: init failing transiently or for good,
                       a tofu that hangs, ignores SIGINT or is killed, output
                       bursts, version gates, and the secret grep of the work
                       dir (it encrypts like OpenTofu; Terraform cannot)
  tests/live_run.rs    a second cancel against a tofu slow to stop (hang), and
                       the plugin cache without any mirror (a real init would
                       need the registry)
  tests/bundle/test.sh the sidecar packed into the .deb (Terraform's licence
                       keeps it out of any bundle; no OpenTofu is here)
  bench/               event-path and memory figures from bursts
  any live-run suite   on a machine without a real engine (never in CI)
";

const STATE_FILE: &str = "terraform.tfstate";
const TFVARS_FILE: &str = "terraform.tfvars.json";
const SUBNET: &str = "10.0.1.0/24";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty()
        || args
            .iter()
            .any(|a| matches!(a.as_str(), "--help" | "-help" | "-h" | "help"))
    {
        print!("{HELP}");
        std::process::exit(if args.is_empty() { 127 } else { 0 });
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tofu (stand-in): no runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(run(args));
    std::process::exit(code);
}
