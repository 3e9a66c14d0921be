#!/usr/bin/env bash
# The provider gateway against claude-code-router and the LiteLLM proxy, side by side
# in one run: the same zero-cost local upstream (Anthropic Messages), the same 8 KB
# bodies, keep-alive connections. Installs both into .cache/bench-proxies (npm and
# PyPI), starts them on loopback, runs `cargo bench --bench gateway` with them as
# extra targets, and prints each proxy's peak RSS. Usage: scripts/bench-gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="$root/.cache/bench-proxies"
mkdir -p "$dir"
upstream=18901
ccr_port=3456
litellm_port=4000

if [ ! -x "$dir/node_modules/.bin/ccr" ]; then
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund @musistudio/claude-code-router@2.0.0 >/dev/null)
fi
if [ ! -x "$dir/litellm/bin/litellm" ]; then
    python3 -m venv "$dir/litellm"
    "$dir/litellm/bin/pip" install -q 'litellm[proxy]'
fi

mkdir -p "$dir/ccr-home/.claude-code-router"
cat > "$dir/ccr-home/.claude-code-router/config.json" <<JSON
{
  "PORT": $ccr_port,
  "LOG": false,
  "Providers": [
    {"name": "up", "api_base_url": "http://127.0.0.1:$upstream/v1/messages",
     "api_key": "sk-bench-upstream-key-0123456789", "models": ["m"],
     "transformer": {"use": ["Anthropic"]}}
  ],
  "Router": {"default": "up,m"}
}
JSON
cat > "$dir/litellm.yaml" <<YAML
model_list:
  - model_name: m
    litellm_params:
      model: anthropic/m
      api_base: http://127.0.0.1:$upstream
      api_key: sk-bench-upstream-key-0123456789
litellm_settings:
  telemetry: false
YAML

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
(cd "$dir" && HOME="$dir/ccr-home" exec ./node_modules/.bin/ccr start) >"$dir/ccr.log" 2>&1 &
pids+=($!)
LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY=true \
    "$dir/litellm/bin/litellm" --config "$dir/litellm.yaml" --host 127.0.0.1 --port $litellm_port \
    >"$dir/litellm.log" 2>&1 &
pids+=($!)
for port in $ccr_port $litellm_port; do
    for _ in $(seq 1 120); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.5
    done
done

cargo bench --bench gateway -- --upstream-port $upstream \
    --proxy "claude-code-router 2.0.0=http://127.0.0.1:$ccr_port" \
    --proxy "LiteLLM proxy $("$dir/litellm/bin/pip" show litellm | awk '/^Version/ {print $2}')=http://127.0.0.1:$litellm_port" \
    "$@"

# Peak RSS of each proxy: the process listening on its port and its children.
peak() {
    local total=0 pid
    for pid in "$@" $(pgrep -P "$1" 2>/dev/null || true); do
        kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    echo "$((total / 1024)) MiB"
}
for port in $ccr_port $litellm_port; do
    pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    echo "peak RSS of the proxy on port $port: $(peak "$pid")"
done
