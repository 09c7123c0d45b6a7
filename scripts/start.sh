#!/usr/bin/env bash
# Starts Catalyst Provisioner: a window in demo mode when a display exists;
# without one, the same UI served to a browser on 127.0.0.1 (address printed).
# Installs and builds what it needs on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --runtime
npm --workspace ui run build --silent
cargo build --quiet --bin catalyst-provisioner
exec "${CARGO_TARGET_DIR:-target}/debug/catalyst-provisioner" "$@"
