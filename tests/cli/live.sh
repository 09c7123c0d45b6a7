#!/usr/bin/env bash
# Runs tests/cli_live.rs: the headless CLI's live provision against the test
# doubles, as from a CI runner (HCLOUD_TOKEN, --yes, --json). The app keeps
# the secrets it generates in the OS keyring, so the test and the app share
# one fresh kernel keyring session (Debian keyutils) with no D-Bus, which
# makes the app choose keyutils, as on a headless runner. One test at a time:
# each starts its own doubles, and two real engines at once are slow on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v keyctl >/dev/null || { echo "cli-live: keyctl is missing (apt-get install keyutils)" >&2; exit 1; }
cargo build -q -p catalyst-provisioner --bin catalyst-provisioner
cargo build -q -p catalyst-tests --bin tofu
cargo build -q --manifest-path tests/fakes/hcloud-provider/Cargo.toml
cargo test -q -p catalyst-tests --test cli_live --no-run
env -u DBUS_SESSION_BUS_ADDRESS keyctl session - \
    cargo test -q -p catalyst-tests --test cli_live -- --ignored --nocapture --test-threads=1
