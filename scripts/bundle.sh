#!/usr/bin/env bash
# Builds the installable .deb of Catalyst Provisioner with the Tauri CLI
# (npm @tauri-apps/cli; AppImage is never built: its tooling is downloaded).
#
# Build inputs (optional; neither can be downloaded here, so they are given):
#   CATALYST_TOFU_BIN         an OpenTofu binary, shipped as the sidecar
#                             /usr/bin/tofu next to /usr/bin/catalyst-provisioner
#   CATALYST_PROVIDER_MIRROR  a directory in `tofu providers mirror` layout,
#                             shipped as /usr/lib/Catalyst Provisioner/providers
# Without them the bundle is built without sidecar/mirror, and this says so.
#
# Usage: scripts/bundle.sh [--debug] [--skip-ui-build] [more `tauri build` args]
#   --debug          debug profile, reusing target/debug (quick; what the tests use)
#   --skip-ui-build  do not rebuild ui/dist first (it must already be built)
# The last line printed is the path of the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
args=()
for a in "$@"; do
  case "$a" in
    --debug) profile=debug; args+=("$a") ;;
    --skip-ui-build) args+=(--config '{"build":{"beforeBuildCommand":null}}') ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$a") ;;
  esac
done

die() { echo "bundle: $*" >&2; exit 1; }

triple=$(rustc -vV | sed -n 's/^host: //p')
[ -n "$triple" ] || die "cannot read the host target triple from rustc -vV"

# Inputs of an earlier run must never ship by accident.
rm -rf src-tauri/binaries src-tauri/providers

bins='[]'
resources='{}'
if [ -n "${CATALYST_TOFU_BIN:-}" ]; then
  if [ ! -f "$CATALYST_TOFU_BIN" ] || [ ! -x "$CATALYST_TOFU_BIN" ]; then
    die "CATALYST_TOFU_BIN=$CATALYST_TOFU_BIN is not an executable file"
  fi
  mkdir -p src-tauri/binaries
  # tauri-build wants the target-triple suffix; the bundle installs it as usr/bin/tofu.
  install -m 0755 "$CATALYST_TOFU_BIN" "src-tauri/binaries/tofu-$triple"
  bins='["binaries/tofu"]'
  echo "bundle: tofu sidecar from $CATALYST_TOFU_BIN"
  if [ "$profile" = debug ]; then
    echo "bundle: note: tauri-build copies it to target/debug/tofu, where the tests' stand-in tofu lives"
  fi
else
  echo "bundle: CATALYST_TOFU_BIN not set: no tofu sidecar; the app will use Settings or PATH"
fi
if [ -n "${CATALYST_PROVIDER_MIRROR:-}" ]; then
  [ -d "$CATALYST_PROVIDER_MIRROR" ] || die "CATALYST_PROVIDER_MIRROR=$CATALYST_PROVIDER_MIRROR is not a directory"
  [ -n "$(find "$CATALYST_PROVIDER_MIRROR" -type f -print -quit)" ] \
    || die "CATALYST_PROVIDER_MIRROR=$CATALYST_PROVIDER_MIRROR holds no files"
  mkdir -p src-tauri/providers
  cp -R "$CATALYST_PROVIDER_MIRROR"/. src-tauri/providers/
  resources='{"providers/":"providers/"}'
  echo "bundle: provider mirror from $CATALYST_PROVIDER_MIRROR"
else
  echo "bundle: CATALYST_PROVIDER_MIRROR not set: no provider mirror; tofu init will need the registry"
fi

# Paths in this config are relative to src-tauri/ (where tauri-build and the
# bundler resolve externalBin and resources).
args+=(--config "{\"bundle\":{\"externalBin\":$bins,\"resources\":$resources}}")

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
out="$target_dir/$profile/bundle/deb"
rm -f "$out"/*.deb

TAURI_APP_PATH=src-tauri npx --no-install tauri build --bundles deb "${args[@]}"

debs=("$out"/*.deb)
[ -f "${debs[0]}" ] || die "no .deb under $out"
((${#debs[@]} == 1)) || die "more than one .deb under $out: ${debs[*]}"
echo "${debs[0]}"
