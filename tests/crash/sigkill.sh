#!/usr/bin/env bash
# Runs tests/crash_resume.rs: the app binary killed with SIGKILL at every
# phase boundary of a live run against the test doubles, then resumed; and
# killed in the middle of `tofu apply`, then resumed. The
# app keeps its secrets in the OS keyring, so the test and the app processes
# it starts share one fresh kernel keyring session (Debian keyutils) with no
# D-Bus, which makes the app choose keyutils, as on a headless laptop. The
# tests run one at a time: their wizards share that keyring's entries.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v keyctl >/dev/null || { echo "sigkill: keyctl is missing (apt-get install keyutils)" >&2; exit 1; }
# The binary under test, the stand-in tofu beside it (used only where no real
# engine exists) and the stand-in hcloud provider the real engine loads.
cargo build -q -p catalyst-provisioner --bin catalyst-provisioner
cargo build -q -p catalyst-tests --bin tofu
cargo build -q --manifest-path tests/fakes/hcloud-provider/Cargo.toml
cargo test -q -p catalyst-tests --test crash_resume --no-run
env -u DBUS_SESSION_BUS_ADDRESS keyctl session - \
    cargo test -q -p catalyst-tests --test crash_resume -- --ignored --nocapture --test-threads=1
