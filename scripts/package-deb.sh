#!/usr/bin/env bash
# Builds the Debian package: the app (`aiswitch-desktop`, its tray `aiswitch-tray`), the `aiswitch` CLI beside it (what "Install
# command-line tool" links and what the app starts as its daemon), the reference agent,
# a desktop entry and the icon. Prints the package's path.
#   ./scripts/package-deb.sh [release|debug]     (debug: for the install test, uncompressed)
# Install with `sudo apt install ./target/debian/aiswitch_<version>_amd64.deb`, remove
# with `sudo apt remove aiswitch`.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
if [ "$profile" = release ]; then
  cargo build --release --locked -p aiswitch -p aiswitch-desktop -p aiswitch-tray >&2
  compress=(-Zxz)
else
  cargo build --locked -p aiswitch -p aiswitch-desktop -p aiswitch-tray >&2
  compress=(-Znone)
fi
bin=target/$profile
version=$("$bin/aiswitch" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/aiswitch_${version}_${arch}
install -s -Dm755 "$bin/aiswitch-desktop" "$root/usr/bin/aiswitch-desktop"
install -s -Dm755 "$bin/aiswitch-tray" "$root/usr/bin/aiswitch-tray"
install -s -Dm755 "$bin/aiswitch" "$root/usr/bin/aiswitch"
install -s -Dm755 "$bin/aiswitch-agent" "$root/usr/bin/aiswitch-agent"
install -Dm644 icons/icon.png "$root/usr/share/icons/hicolor/256x256/apps/aiswitch.png"
install -d "$root/usr/share/applications" "$root/DEBIAN"
cat > "$root/usr/share/applications/aiswitch.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=aiswitch
Comment=Switch AI coding agents between providers, run them together, watch what they cost
Exec=aiswitch-desktop
Icon=aiswitch
Categories=Development;Utility;
Terminal=false
DESKTOP
cat > "$root/DEBIAN/control" <<CONTROL
Package: aiswitch
Version: $version
Architecture: $arch
Maintainer: aiswitch <aiswitch@users.noreply.github.com>
Depends: libwebkit2gtk-4.1-0, libgtk-3-0
Section: devel
Priority: optional
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Description: local control centre for AI coding-agent CLIs
 A tray app and the aiswitch command: switch Claude Code, Codex, Gemini CLI and
 others between API providers, run one task on several agents, and see every
 token and what it cost. Everything stays in local files.
CONTROL
mkdir -p target/debian
dpkg-deb "${compress[@]}" --root-owner-group --build "$root" target/debian/ >&2
echo "$PWD/target/debian/aiswitch_${version}_${arch}.deb"
