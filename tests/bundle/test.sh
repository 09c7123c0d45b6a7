#!/usr/bin/env bash
# The installable bundle, end to end: builds the debug .deb (reusing the debug
# build) through scripts/bundle.sh with the stand-in tofu (tests/fakes/tofu)
# as the sidecar and a tiny provider mirror as resources; checks what the
# package holds and that its Depends cover every library the binary links;
# extracts it into a fresh dir; runs the INSTALLED binary: `info --json`, and
# under Xvfb until its first screen shows (tests/bundle/first-screen.test.mjs).
# Needs ui/dist built (scripts/test.sh does that first).
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
PRODUCT="Catalyst Provisioner"
work=$(mktemp -d "${TMPDIR:-/tmp}/catalyst-bundle.XXXXXX")
had_providers=0
[ -e "$TARGET/debug/providers" ] && had_providers=1

cleanup() {
  rm -rf "$work" src-tauri/binaries src-tauri/providers
  # tauri-build copied the fake mirror beside the debug binary: take it away.
  ((had_providers)) || rm -rf "$TARGET/debug/providers"
}
trap cleanup EXIT

fail() { echo "bundle test: FAIL: $*" >&2; exit 1; }
ok() { echo "bundle test: ok: $*"; }

[ -f ui/dist/index.html ] || fail "ui/dist is not built (npm --workspace ui run build)"

# Inputs: the stand-in tofu, and a mirror in `tofu providers mirror` layout.
# (A copy: target/debug/tofu may be rebuilt by a concurrent build meanwhile.)
cargo build -p catalyst-tests --bin tofu --quiet
tofu_bin="$work/tofu"
cp "$TARGET/debug/tofu" "$tofu_bin"
hc="$work/mirror/registry.opentofu.org/hetznercloud/hcloud"
mkdir -p "$hc"
echo '{"versions":{"1.52.0":{}}}' >"$hc/index.json"
printf '#!/bin/sh\necho "stand-in provider, bundle test"\n' >"$work/terraform-provider-hcloud_v1.52.0"
(cd "$work" && python3 -m zipfile -c "$hc/terraform-provider-hcloud_1.52.0_linux_amd64.zip" terraform-provider-hcloud_v1.52.0)
echo '{"archives":{"linux_amd64":{"url":"terraform-provider-hcloud_1.52.0_linux_amd64.zip"}}}' >"$hc/1.52.0.json"

# Build. The CLI compiles the app with the `custom-protocol` feature (the
# production asset path), then bundles.
start=$SECONDS
CATALYST_TOFU_BIN="$tofu_bin" CATALYST_PROVIDER_MIRROR="$work/mirror" \
  bash scripts/bundle.sh --debug --skip-ui-build | tee "$work/bundle.log"
build_s=$((SECONDS - start))
deb=$(tail -n 1 "$work/bundle.log")
[ -f "$deb" ] || fail "scripts/bundle.sh did not name a .deb (last line: $deb)"
# The CLI left its custom-protocol build at target/debug/catalyst-provisioner;
# put the plain debug build back for the suites that follow (a relink, no compile).
cargo build -p catalyst-provisioner --bin catalyst-provisioner --quiet
size=$(stat -c %s "$deb")
echo "bundle: built $(basename "$deb") in ${build_s} s, $((size / 1024 / 1024)) MiB ($size bytes)"

# --- Package metadata
field() { dpkg-deb -f "$deb" "$1"; }
version=$(node -p 'require("./tauri.conf.json").version')
[ "$(field Package)" = catalyst-provisioner ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), tauri.conf.json says $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for p in libwebkit2gtk-4.1-0 libgtk-3-0; do
  [[ ", $depends," == *", $p,"* || ", $depends," == *", $p "* ]] || fail "Depends lacks $p: $depends"
done
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
ok "control: catalyst-provisioner $version, Depends: $depends"

# --- Contents (paths may hold spaces: drop the five columns before the path)
dpkg-deb -c "$deb" | sed -E 's/^([^ ]+ +){5}//; s|^\./||' >"$work/contents"
has() { grep -qxF "$1" "$work/contents" || fail "the package lacks $1"; }
mode() { dpkg-deb -c "$deb" | grep -E " (\./)?$1\$" | cut -c1-10; }
has usr/bin/catalyst-provisioner
has usr/bin/tofu
[ "$(mode usr/bin/catalyst-provisioner)" = -rwxr-xr-x ] || fail "usr/bin/catalyst-provisioner is not executable"
[ "$(mode usr/bin/tofu)" = -rwxr-xr-x ] || fail "usr/bin/tofu is not executable"
mirror_rel="usr/lib/$PRODUCT/providers"
for f in index.json 1.52.0.json terraform-provider-hcloud_1.52.0_linux_amd64.zip; do
  has "$mirror_rel/registry.opentofu.org/hetznercloud/hcloud/$f"
done
has "usr/share/applications/$PRODUCT.desktop"
icons=$(grep -cE '^usr/share/icons/hicolor/[^/]+/apps/catalyst-provisioner\.png$' "$work/contents" || true)
((icons >= 3)) || fail "expected the hicolor icons (32, 128, 256@2, 512), found $icons"
for s in 32x32 128x128; do has "usr/share/icons/hicolor/$s/apps/catalyst-provisioner.png"; done
ok "contents: app, tofu sidecar, provider mirror, .desktop, $icons icons"

# --- Extract into a fresh dir ("installed" without touching the system)
root="$work/root"
dpkg-deb -x "$deb" "$root"
app="$root/usr/bin/catalyst-provisioner"
cmp -s "$tofu_bin" "$root/usr/bin/tofu" || fail "usr/bin/tofu is not the tofu given to the build"
tofu_version=$("$root/usr/bin/tofu" version -json) || fail "the sidecar failed: tofu version -json"
grep -q '"terraform_version"' <<<"$tofu_version" || fail "the sidecar answered: $tofu_version"
diff -r "$work/mirror" "$root/$mirror_rel" || fail "the shipped mirror differs from the one given"
desktop="$root/usr/share/applications/$PRODUCT.desktop"
grep -qx 'Exec=catalyst-provisioner' "$desktop" || fail "$desktop: no Exec=catalyst-provisioner"
grep -qx 'Icon=catalyst-provisioner' "$desktop" || fail "$desktop: no Icon=catalyst-provisioner"
grep -qx "Name=$PRODUCT" "$desktop" || fail "$desktop: no Name=$PRODUCT"
ok "extracted: sidecar runs, mirror identical, .desktop launches catalyst-provisioner"

# Depends must cover every shared library the installed binary links.
read -ra deplist <<<"$(sed -E 's/\([^)]*\)//g; s/[,|]/ /g' <<<"$depends")"
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${deplist[@]}" 2>/dev/null | grep -v '^ ' | sort -u)
owner() { # package owning a shared library by soname (dpkg paths differ under usrmerge)
  local p real c pkg
  p=$(ldconfig -p | awk -v l="$1" '$1 == l { print $NF; exit }')
  [ -n "$p" ] || return 1
  real=$(readlink -f "$p")
  for c in "$p" "$real" "${real/#\/usr\/lib\//\/lib\/}" "${p/#\/lib\//\/usr\/lib\/}"; do
    pkg=$(dpkg -S "$c" 2>/dev/null | head -n 1 | cut -d: -f1)
    [ -n "$pkg" ] && { echo "$pkg"; return 0; }
  done
  return 1
}
uncovered=()
while read -r lib; do
  pkg=$(owner "$lib") || fail "cannot tell which package provides $lib"
  grep -qxF "$pkg" <<<"$closure" || uncovered+=("$lib ($pkg)")
done < <(objdump -p "$app" | awk '/NEEDED/ { print $2 }')
((${#uncovered[@]} == 0)) || fail "Depends ($depends) does not pull in: ${uncovered[*]}"
ok "Depends covers every NEEDED library of the binary"

# --- Run the installed binary
home="$work/home"
mkdir -p "$home"
CATALYST_HOME="$home" "$app" info --json >"$work/info.json" || fail "info --json exited with $?"
# shellcheck disable=SC2016 # JavaScript template literals, not shell
HOME_DIR="$home" VERSION="$version" node -e '
  const info = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = { version: process.env.VERSION, mode: "demo" };
  for (const [k, v] of Object.entries(want)) if (info[k] !== v) throw new Error(`info.${k} = ${info[k]}, want ${v}`);
  if (!info.data_dir.startsWith(process.env.HOME_DIR)) throw new Error(`data_dir ${info.data_dir} is outside CATALYST_HOME`);
' "$work/info.json" || fail "info --json: $(cat "$work/info.json")"
ok "installed binary: info --json $(cat "$work/info.json")"

CATALYST_BIN="$app" CATALYST_HOME="$home" \
  xvfb-run -a -s "-screen 0 1280x800x24" node --test tests/bundle/first-screen.test.mjs \
  || fail "the installed binary did not reach its first screen"
ok "installed binary reached step 1 under Xvfb (.deb: $((size / 1024 / 1024)) MiB, built in ${build_s} s)"
