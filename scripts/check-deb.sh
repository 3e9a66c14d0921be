#!/usr/bin/env bash
# Builds the .deb (debug binaries, uncompressed: quick), installs it with apt, checks
# that its `aiswitch` answers with the app's version and that its app starts to a tray
# (read over D-Bus under Xvfb), then removes it and checks that nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
deb=$(./scripts/package-deb.sh debug)
version=$(dpkg-deb -f "$deb" Version)
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -qq aiswitch >/dev/null 2>&1 || true' EXIT
answer=$(/usr/bin/aiswitch --version)
[ "$answer" = "aiswitch $version" ] || { echo "check-deb: aiswitch --version says '$answer', the package is $version"; exit 1; }
echo "check-deb: installed $deb; /usr/bin/aiswitch --version: $answer"
home=$(mktemp -d)
unset DBUS_SESSION_BUS_ADDRESS
status=0
AISWITCH_HOME="$home" NO_AT_BRIDGE=1 timeout 120 xvfb-run -a dbus-launch --exit-with-session \
  /usr/bin/python3 src-tauri/tests/deb_check.py /usr/bin/aiswitch-desktop /usr/bin/aiswitch </dev/null || status=$?
kill "$(cat "$home/run/daemon.lock" 2>/dev/null)" 2>/dev/null || true
rm -rf "$home"
[ "$status" -eq 0 ] || { echo "check-deb: the installed app did not reach the tray"; exit 1; }
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -qq aiswitch >/dev/null
for f in /usr/bin/aiswitch /usr/bin/aiswitch-desktop /usr/bin/aiswitch-tray /usr/bin/aiswitch-agent \
  /usr/share/applications/aiswitch.desktop /usr/share/icons/hicolor/256x256/apps/aiswitch.png; do
  [ ! -e "$f" ] || { echo "check-deb: $f is left after apt remove"; exit 1; }
done
echo "check-deb: removed cleanly"
