#!/usr/bin/env bash
# Installs what building and testing Catalyst Provisioner needs on Debian 12:
# system libraries for Tauri/WebKitGTK, the test tools (Xvfb, WebKitWebDriver,
# Chromium, OpenSSH, validators), the npm packages, and tauri-driver.
# Idempotent: a second run only checks.
#
#   --runtime  only what building and running the app needs (scripts/start.sh):
#              no test tools, so an operator's machine never gets cloud-init
#              (whose boot services a host should not run), an SSH server,
#              Chromium or tauri-driver just to open the app.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=0
[ "${1:-}" = "--runtime" ] && runtime=1

APT_PACKAGES=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
)
if ((!runtime)); then
  APT_PACKAGES+=(
    webkit2gtk-driver xvfb xauth chromium imagemagick xdotool
    dbus gnome-keyring keyutils iproute2 util-linux
    openssh-client openssh-server shellcheck cloud-init
    protobuf-compiler libprotobuf-dev jq
  )
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # dpkg on these machines once lost its temp archives mid-run: retry once.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get -f install -y -qq; $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ((!runtime)) && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: cargo install tauri-driver"
  cargo install tauri-driver --version "^2" --locked --quiet
fi
