#!/usr/bin/env bash
# The dashboard with a big store: 10,000 tasks and 1,000,000 usage events (90 days),
# page load to interactive (overview and usage), then a task on three reference
# agents streaming 1,000 lines/s each for 20 s, watched in real Chromium.
#   ./scripts/bench-dashboard.sh
# Soak: the same stream for SOAK_SECS seconds (3600 for the hour), sampling the page's
# heap and the dashboard's and the daemon's memory every minute:
#   SOAK_SECS=3600 ./scripts/bench-dashboard.sh
# The live part in the desktop app's window instead (WebKitGTK under Xvfb, over
# WebDriver with tauri-driver from scripts/setup.sh; the big store is not written):
#   WHERE=app ./scripts/bench-dashboard.sh     (APP=path measures another build of the app)
set -euo pipefail
cd "$(dirname "$0")/.."
npm --prefix ui run build --silent >/dev/null
where=${WHERE:-browser}
if [ "$where" = app ]; then
  cargo build --release --locked -p aiswitch -p aiswitch-desktop >&2
else
  cargo build --release --locked -p aiswitch >&2
fi
bin="$PWD/target/release"
home=$(mktemp -d)
work=$(mktemp -d)
soak=${SOAK_SECS:-0}
lines=$(( soak > 0 ? soak * 1000 : 20000 ))
pids=()
# The daemon may be the one `aiswitch dashboard` (or the app) started: its lock names it.
cleanup() {
  for p in "${pids[@]}" "$(cat "$home/run/daemon.lock" 2>/dev/null)"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$home" "$work"
}
trap cleanup EXIT
export AISWITCH_HOME="$home"
echo sk-bench-0123456789abcdef | "$bin/aiswitch" add bench --kind anthropic --base-url https://api.example.com/anthropic --model claude-sonnet-4-5 --api-key - >/dev/null
"$bin/aiswitch" use bench >/dev/null
"$bin/aiswitch" demo --json >/dev/null   # creates the store
for n in 1 2 3; do
  cat > "$home/s$n.toml" <<TOML
id = "s$n"
name = "s$n"
command = "$bin/aiswitch-agent"
args = ["--name", "s$n", "--stream-lines", "$lines", "--lines-per-sec", "1000"]
driver = "acp"
lifetime = "session"
[inject.anthropic]
TOML
  "$bin/aiswitch" agents register "$home/s$n.toml" >/dev/null
done
[ "$where" = app ] || python3 - "$home/data/aiswitch.db" <<'PY'
import random, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1000)
day = 86_400_000
random.seed(7)
db.executemany(
    "INSERT INTO tasks (id, prompt, agents, order_mode, chain, coordination, workdir, status, pid, started_ms, ended_ms, result) VALUES (?,?,?,?,0,?,?,?,0,?,?,NULL)",
    ((f"tbench{i:06d}", f"task number {i}: refactor module {i % 97}", "claude,codex", "parallel", "isolated", "/tmp",
      random.choice(["succeeded", "failed", "cancelled"]), now - i * 600_000, now - i * 600_000 + 30_000) for i in range(10_000)))
agents = ["claude", "codex", "gemini", "qwen"]
models = ["claude-sonnet-4-5", "gpt-5-codex", "gemini-2.5-pro", "qwen3-coder"]
def rows():
    for i in range(1_000_000):
        a = i % 4
        yield (now - random.randrange(90 * day), agents[a], "bench", "anthropic", models[a], None,
               random.randrange(2000), random.randrange(800), random.randrange(5000), 0, 0,
               round(random.random() / 100, 6), "table", "agent", "bench")
db.executemany(
    "INSERT INTO usage_events (at_ms, agent, preset, provider, model, task_id, input, output, cache_read, cache_write, reasoning, cost_usd, cost_source, count_source, price_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    rows())
db.execute("DELETE FROM usage_hourly")
db.execute("""INSERT INTO usage_hourly
  SELECT at_ms / 3600000 * 3600000, agent, coalesce(preset, ''), coalesce(model, ''), count(*),
         sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning),
         coalesce(sum(cost_usd), 0), sum(cost_usd IS NULL), count_source
  FROM usage_events GROUP BY 1, 2, 3, 4, count_source""")
db.commit()
PY
"$bin/aiswitch" daemon >/dev/null 2>&1 &
daemon=$!
pids+=($daemon)
fifo="$home/dashboard.out"
"$bin/aiswitch" dashboard --json >"$fifo" 2>/dev/null &
dash=$!
pids+=($dash)
for _ in $(seq 100); do grep -q url "$fifo" 2>/dev/null && break; sleep 0.1; done
url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$fifo")
if [ "$where" = app ]; then
  unset DBUS_SESSION_BUS_ADDRESS
  NO_AT_BRIDGE=1 xvfb-run -a dbus-launch --exit-with-session node ui/tests/bench_app.mjs \
    "$PWD/.cache/tools/bin/tauri-driver" "${APP:-$bin/aiswitch-desktop}" "$work" </dev/null
  exit
fi
SOAK_SECS=$soak DASHBOARD_PID=$dash DAEMON_PID=$daemon node ui/tests/bench.mjs "$url" "$work"
echo "dashboard server RSS after: $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$dash/status)"
