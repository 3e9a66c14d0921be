#!/usr/bin/env bash
# Installs what aiswitch needs to build and test on Debian/Ubuntu with Rust and Node:
# the system libraries Tauri needs (apt, only when missing), Xvfb, D-Bus and Python's
# GObject bindings for the desktop tests (the tray is read over D-Bus as a panel does),
# zsh and fish for the shell-integration tests, Chromium and fonts (Latin and CJK) for
# the dashboard tests, WebKitWebDriver for the app's dashboard test, Prometheus (a real
# server scrapes the metrics endpoint in a test), and the UI's npm
# packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev librsvg2-dev libxdo-dev
  xvfb xauth dbus-x11 util-linux git
  python3-gi gir1.2-gtk-3.0
  zsh fish
  chromium fonts-dejavu-core fonts-noto-cjk webkit2gtk-driver
  prometheus
)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: installing UI packages"
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
fi
npm --prefix ui run build --silent

