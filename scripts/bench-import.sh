#!/usr/bin/env bash
# aiswitch's log import and daily report against ccusage, side by side on the same
# generated Claude Code logs. Installs ccusage from the npm registry into
# .cache/bench-ccusage (20.0.24: the newest whose native linux-x64 build the registry
# has), then runs `cargo bench --bench import` at 100 MB and 1 GB.
# Usage: scripts/bench-import.sh [MB...]   (default: 100 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/.cache/bench-ccusage"
version=20.0.24
if [ ! -x "$dir/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund "ccusage@$version" >/dev/null)
fi
ccusage="$dir/node_modules/.bin/ccusage"
echo "ccusage $("$ccusage" --version)"
for mb in "${@:-100 1024}"; do
    for size in $mb; do
        cargo bench --bench import -- --mb "$size" --runs 5 --ccusage "$ccusage" 2>/dev/null
        echo
    done
done
