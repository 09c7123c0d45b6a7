#!/usr/bin/env bash
# Offline proof: the end-to-end live run against the test doubles (tests/
# live_run.rs) passes inside a network namespace whose only interface is
# loopback. Every double listens on 127.0.0.1, so a call to any other host
# fails at once: no route exists. Needs root (ip netns); falls back to
# `unshare -n` where `ip netns` is refused.
#
# Usage: tests/offline/netns.sh   (CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1

# Build first, outside the namespace (cargo may need its registry), and take
# the test binary's path from cargo's own report. The live runs drive the
# real engine (Terraform here, or CATALYST_REAL_TOFU) with the stand-in hcloud
# provider, laid out as a filesystem mirror: `init` itself runs offline.
cargo build -q --manifest-path tests/fakes/hcloud-provider/Cargo.toml
bin=$(cargo test -p catalyst-tests --test live_run --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*live_run-[^"]*\)".*/\1/p' | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "netns: the live_run test binary was not built" >&2
  exit 1
fi
echo "netns: test binary $bin"

ns="catalyst-offline-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT

# run_inside CMD...: runs CMD in a loopback-only namespace.
if ip netns add "$ns" 2>/dev/null; then
  ip netns exec "$ns" ip link set lo up
  run_inside() { ip netns exec "$ns" "$@"; }
  echo "netns: using ip netns $ns"
elif unshare -n true 2>/dev/null; then
  run_inside() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; }
  echo "netns: ip netns refused; using unshare -n"
else
  echo "netns: cannot create a network namespace here (needs root or user namespaces)" >&2
  exit 1
fi

# The namespace really is offline: loopback only, and no route out.
ifaces=$(run_inside ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
if [ "$ifaces" != "lo " ]; then
  echo "netns: expected only lo, found: $ifaces" >&2
  exit 1
fi
if run_inside ip route get 1.1.1.1 >/dev/null 2>&1; then
  echo "netns: a route out of the namespace exists" >&2
  exit 1
fi

start=$SECONDS
# The test binary is run from the test crate's directory, as cargo does.
(cd tests && run_inside "$bin" --test-threads=2)
echo "netns: live run suite passed offline in $((SECONDS - start)) s"
