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

bash scripts/setup.sh || { echo "setup failed"; exit 1; }

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
export CATALYST_BIN="$TARGET/debug/catalyst-provisioner"
export CARGO_TERM_COLOR=never
passed=0 failed=0 failures=()

suite() {
  local name="$1"; shift
  echo
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# The UI is embedded in the binary: build it before any cargo build.
suite "ui build" npm --workspace ui run build
suite "rustfmt" cargo fmt --all -- --check
suite "eslint" npm --workspace ui run lint
suite "shellcheck" shellcheck scripts/*.sh .ci/run tests/bundle/*.sh
suite "clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
suite "cargo build" cargo build --workspace --bins --quiet
suite "cargo test" cargo test --workspace
suite "vitest" npm --workspace ui run test
if [ -f scripts/keyring-test.sh ]; then
  suite "os keyring" bash scripts/keyring-test.sh
fi
suite "offline ui" npm --workspace tests/e2e run offline
suite "bundle (.deb)" bash tests/bundle/test.sh
suite "browser (playwright)" npm --workspace tests/e2e run browser
suite "window (tauri-driver)" xvfb-run -a -s "-screen 0 1280x800x24" npm --workspace tests/e2e run window

echo
if ((failed)); then echo "failed suites: ${failures[*]}"; fi
echo "suites: $passed passed, $failed failed"
((failed == 0))
