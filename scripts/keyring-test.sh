#!/bin/sh
# Runs the OS keyring test (engine::secrets::store, skipped in plain
# `cargo test`) against the real Linux backends:
#  1. Secret Service: a private D-Bus session with gnome-keyring unlocked
#     (Debian packages dbus, gnome-keyring);
#  2. kernel keyutils: a fresh session keyring from `keyctl session`
#     (Debian keyutils), with no D-Bus so the app must choose keyutils;
#  3. the same with the session keyring's write permission taken away: the
#     app must notice at start and explain a refused write.
# Each run asserts which backend the app detected. Needs no desktop session.
set -eu
cd "$(dirname "$0")/.."

TEST_NAME=engine::secrets::store::tests::os_keyring_round_trip
TEST="cargo test -q -p catalyst-provisioner --lib $TEST_NAME -- --exact --nocapture"
REFUSING_NAME=engine::secrets::store::tests::keyutils_refusing_writes_is_found_at_detect_and_explained
TEST_REFUSING="cargo test -q -p catalyst-provisioner --lib $REFUSING_NAME -- --exact --nocapture"

for tool in dbus-run-session gnome-keyring-daemon keyctl; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "keyring-test: $tool is missing (apt-get install dbus gnome-keyring keyutils)" >&2
        exit 1
    }
done

# Build once outside the sessions so each run only runs.
cargo test -q -p catalyst-provisioner --lib --no-run

# gnome-keyring keeps its keyring files under XDG_DATA_HOME: keep them out of $HOME.
data_home=$(mktemp -d)
trap 'rm -rf "$data_home"' EXIT INT TERM

echo "== Secret Service (gnome-keyring in a private D-Bus session)"
XDG_DATA_HOME="$data_home" CATALYST_KEYRING_TEST=1 CATALYST_KEYRING_BACKEND=secret-service \
    dbus-run-session -- sh -c "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && $TEST"

echo "== kernel keyutils (fresh session keyring, no D-Bus)"
env -u DBUS_SESSION_BUS_ADDRESS CATALYST_KEYRING_TEST=1 CATALYST_KEYRING_BACKEND=keyutils \
    keyctl session - sh -c "$TEST"

# An inherited session keyring can answer reads but refuse writes (EACCES,
# which keyutils reports as "no entry"); a fresh one without its write
# permission (possessor and user: view read search link setattr) does the same.
echo "== kernel keyutils refusing writes (session keyring without write permission)"
env -u DBUS_SESSION_BUS_ADDRESS CATALYST_KEYRING_TEST=1 CATALYST_KEYRING_BACKEND=keyutils-refusing \
    keyctl session - sh -c "keyctl setperm @s 0x3b0b0000 && $TEST_REFUSING"

echo "keyring-test: both OS backends passed, and a refusing kernel keyring is told apart"
