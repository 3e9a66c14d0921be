#!/usr/bin/env bash
# Tray app benchmarks: the release app under Xvfb with a private D-Bus session, driven
# as a desktop panel drives it (src-tauri/tests/tray_bench.py). Prints Markdown.
#   ./scripts/bench-tray.sh [RUNS] [IDLE_SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p aiswitch -p aiswitch-desktop -p aiswitch-tray
home=$(mktemp -d)
# The app starts a daemon for this home: stop it at the end.
trap 'kill "$(cat "$home/run/daemon.lock" 2>/dev/null)" 2>/dev/null || true; rm -rf "$home"' EXIT
unset DBUS_SESSION_BUS_ADDRESS
AISWITCH_HOME="$home" NO_AT_BRIDGE=1 xvfb-run -a dbus-launch --exit-with-session \
  /usr/bin/python3 src-tauri/tests/tray_bench.py \
  "$PWD/target/release/aiswitch-desktop" "$PWD/target/release/aiswitch" \
  "$PWD/target/release/aiswitch-agent" "${1:-100}" "${2:-30}" </dev/null
