#!/usr/bin/env bash
# Runs every test of Catalyst Provisioner, installing what it needs first:
# lint (rustfmt, clippy, eslint, tsc, shellcheck), cargo tests of the
# workspace, UI unit tests (vitest), the OS-keyring test under a real Secret
# Service and keyutils, the offline check of the built UI, the .deb bundle
# installed into a temp tree and started, the browser suites (Playwright +
# Debian Chromium against --serve) and the real-window suite (Xvfb +
# tauri-driver + WebKitWebDriver). Every suite runs even when an earlier one
# failed; the last line sums them up.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

echo "test.sh: started $(date -u +%H:%M:%S) UTC"
bash scripts/setup.sh || { echo "setup failed"; exit 1; }
echo "test.sh: setup done $(date -u +%H:%M:%S) UTC"

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
export CATALYST_BIN="$TARGET/debug/catalyst-provisioner"
# The browser suite's live walk runs the app over the doubles (tests/bin/live_rig.rs).
export CATALYST_LIVE_RIG="$TARGET/debug/live-rig"

# The live-run, crash, wipe, netns and module suites run the real module
# through a real engine: OpenTofu when CATALYST_REAL_TOFU names one, else the
# Terraform this machine image ships (tests only: its licence keeps it out of
# the product), with the stand-in hcloud provider (tests/fakes/hcloud-provider)
# over the fake Hetzner API. CI sets CATALYST_REQUIRE_REAL_ENGINE=1, so there
# a missing engine fails those suites instead of skipping them.
if [ -z "${CATALYST_REAL_TOFU:-}" ] && [ -x /usr/local/bin/terraform ]; then
  export CATALYST_REAL_TOFU=/usr/local/bin/terraform
fi
export CATALYST_HCLOUD_PROVIDER="$TARGET/debug/terraform-provider-hcloud"
if [ -n "${CATALYST_REAL_TOFU:-}" ]; then
  echo "test.sh: real engine $CATALYST_REAL_TOFU ($("$CATALYST_REAL_TOFU" version 2>/dev/null | head -n 1))"
elif [ "${CATALYST_REQUIRE_REAL_ENGINE:-}" = 1 ]; then
  echo "test.sh: no real engine (no /usr/local/bin/terraform, CATALYST_REAL_TOFU unset) and CI requires one"
else
  echo "test.sh: NO REAL ENGINE: the module and broken-module suites will be SKIPPED, and the live-run,"
  echo "test.sh: crash, wipe, netns and tofu_hetzner suites run the stand-in tofu instead of a real engine."
  echo "test.sh: Set CATALYST_REAL_TOFU=/path/to/tofu to run them for real."
fi
export CARGO_TERM_COLOR=never
passed=0 failed=0 failures=()

# npm's update check is a network call nobody asked for.
export npm_config_update_notifier=false

# suite NAME LIMIT_S CMD...: runs CMD under `timeout`, which gives it a process
# group of its own; whatever the suite leaves behind in that group (a driver,
# a window, a server) is killed afterwards, so nothing can hold our stdout
# open and keep the caller waiting after the last line.
suite() {
  local name="$1" limit="$2"; shift 2
  echo
  echo "=== $name ($(date -u +%H:%M:%S), limit ${limit} s)"
  local start=$SECONDS rc
  timeout --kill-after=20 "$limit" "$@" &
  local pid=$!
  wait "$pid"; rc=$?
  pkill -KILL -g "$pid" 2>/dev/null
  if ((rc == 0)); then
    passed=$((passed + 1)); echo "=== $name: passed ($((SECONDS - start)) s)"
  else
    ((rc == 124)) && echo "=== $name: timed out after ${limit} s"
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# The UI is embedded in the binary: build it before any cargo build.
suite "ui build" 600 npm --workspace ui run build
suite "rustfmt" 300 cargo fmt --all -- --check
suite "eslint" 600 npm --workspace ui run lint
suite "shellcheck" 300 shellcheck scripts/*.sh .ci/run tests/bundle/*.sh tests/crash/*.sh tests/offline/*.sh tests/cli/*.sh examples/ci/*.sh
suite "clippy" 2400 cargo clippy --workspace --all-targets --quiet -- -D warnings
# The benchmark crates sit outside the workspace; they still must compile
# against the engine (a changed signature once broke bench/run.sh unseen).
suite "clippy (bench crates)" 600 bash -c 'cargo clippy --manifest-path bench/harness/Cargo.toml --quiet -- -D warnings && cargo clippy --manifest-path bench/bare/Cargo.toml --quiet -- -D warnings'
suite "clippy + rustfmt (hcloud provider)" 1200 bash -c 'cargo fmt --manifest-path tests/fakes/hcloud-provider/Cargo.toml -- --check && cargo clippy --manifest-path tests/fakes/hcloud-provider/Cargo.toml --quiet -- -D warnings'
suite "cargo build" 2400 cargo build --workspace --bins --quiet
# Its own crate (tonic/prost, protoc from Debian's protobuf-compiler), outside
# the app's workspace and default build.
suite "hcloud provider (stand-in) build" 1200 cargo build --quiet --manifest-path tests/fakes/hcloud-provider/Cargo.toml
if [ "${CATALYST_REQUIRE_REAL_ENGINE:-}" = 1 ]; then
  suite "real engine present" 60 test -x "${CATALYST_REAL_TOFU:-/nonexistent}"
fi
suite "cargo test" 2400 cargo test --workspace --no-fail-fast
suite "crash (SIGKILL)" 1200 bash tests/crash/sigkill.sh
suite "headless CLI, live" 1200 bash tests/cli/live.sh
suite "offline (netns)" 900 bash tests/offline/netns.sh
suite "vitest" 600 npm --workspace ui run test
if [ -f scripts/keyring-test.sh ]; then
  suite "os keyring" 900 bash scripts/keyring-test.sh
fi
suite "offline ui" 300 npm --workspace tests/e2e run offline
suite "bundle (.deb)" 1800 bash tests/bundle/test.sh
suite "browser (playwright)" 900 npm --workspace tests/e2e run browser
suite "window (tauri-driver)" 600 xvfb-run -a -s "-screen 0 1280x800x24" npm --workspace tests/e2e run window

echo
if ((failed)); then echo "failed suites: ${failures[*]}"; fi
echo "suites: $passed passed, $failed failed"
((failed == 0))
