#!/usr/bin/env bash
# `agents list` and `doctor` cold (an empty discovery cache) and warm, with the real
# agent CLIs the real-CLI suite installs (~/.cache/aiswitch/real-cli) on PATH.
#   ./scripts/bench-discovery.sh [WARM_RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p aiswitch >&2
bins=$(find "${AISWITCH_REAL_CLI_CACHE:-$HOME/.cache/aiswitch/real-cli}" -maxdepth 3 -path '*node_modules/.bin' -type d | tr '\n' ':')
[ -n "$bins" ] || { echo "bench-discovery: no real CLIs installed: run the real-CLI suite first" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
PATH="$bins$PATH" AISWITCH_HOME="$home" python3 - "$PWD/target/release/aiswitch" "${1:-20}" <<'PY'
import os, statistics, subprocess, sys, time
cli, runs = sys.argv[1], int(sys.argv[2])
def timed(*args):
    start = time.monotonic()
    subprocess.run([cli, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start
def ms(s):
    return f"{s * 1000:.1f} ms"
cache = os.path.join(os.environ["AISWITCH_HOME"], "data/discovery.json")
print("| command | cold (empty cache) | warm p50 | warm p99 |\n|---|---|---|---|")
for command in (["agents", "list"], ["doctor"]):
    if os.path.exists(cache):
        os.remove(cache)
    cold = timed(*command)
    warm = sorted(timed(*command) for _ in range(runs))
    p99 = warm[min(len(warm) - 1, round(0.99 * (len(warm) - 1)))]
    print(f"| `aiswitch {' '.join(command)}` | {ms(cold)} | {ms(statistics.median(warm))} | {ms(p99)} |")
PY
