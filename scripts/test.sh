#!/usr/bin/env bash
# The whole test suite: formatting, lints, the core library's unit and integration
# tests (real binaries, real SQLite files, real processes), the UI's type check and
# build, and the desktop app's build, a smoke run, unit tests and the tray read and
# clicked over D-Bus under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "lint (core)"
cargo clippy --all-targets --locked -- -D warnings

step "ui: type check"
npm --prefix ui run check --silent

step "desktop: lint"
cargo clippy -p aiswitch-desktop -p aiswitch-tray --all-targets --locked -- -D warnings

step "desktop: smoke run under Xvfb"
cargo build --locked -p aiswitch -p aiswitch-desktop -p aiswitch-tray
smoke_home=$(mktemp -d)
AISWITCH_HOME="$smoke_home" ./target/debug/aiswitch add smoke-preset FOO bar >/dev/null
AISWITCH_HOME="$smoke_home" AISWITCH_DESKTOP_SMOKE=1 timeout 120 \
  xvfb-run -a dbus-launch --exit-with-session ./target/debug/aiswitch-desktop
rm -rf "$smoke_home"

step "desktop: tauri-driver (WebDriver for the app's webview), pinned, in .cache/tools"
[ -x .cache/tools/bin/tauri-driver ] ||
  cargo install tauri-driver --version 2.1.0 --locked --root .cache/tools --quiet

step "tray: unit tests (the tray model, the notification rules, the icons, one app at a time)"
cargo test -p aiswitch-tray --locked

step "desktop: the tray over D-Bus and the dashboard over WebDriver (Xvfb, a private session bus)"
cargo test -p aiswitch-desktop --locked -- --nocapture

step "desktop: the .deb installs with apt, starts to a tray, and removes cleanly"
./scripts/check-deb.sh

step "core: unit and integration tests"
cargo test --locked -- --skip real_cli_suite

step "real agent CLIs from npm against the fake provider"
cargo test --locked --test real_cli -- --nocapture
