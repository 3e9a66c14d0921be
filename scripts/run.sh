#!/usr/bin/env bash
# Runs aiswitch: the desktop tray app when there is a display, otherwise
# `aiswitch demo` (a coordinated task of three reference agents) and a short tour of
# the CLI, against a throwaway AISWITCH_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked -p aiswitch -p aiswitch-desktop -p aiswitch-tray

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec ./target/release/aiswitch-desktop
fi

echo "no display: running the demo and a tour of the CLI (set DISPLAY to get the tray app)"
export AISWITCH_HOME="${AISWITCH_HOME:-$(mktemp -d)}"
a=./target/release/aiswitch
run() { printf '\n$ aiswitch %s\n' "$*"; "$a" "$@"; }
run demo
printf 'sk-demo-0000-1111-2222-a1b2' | run add deepseek --kind anthropic \
  --base-url https://api.deepseek.com/anthropic --model deepseek-chat --api-key - \
  --description "DeepSeek via its Anthropic endpoint" API_TIMEOUT_MS 600000
run add ollama --kind openai --base-url http://127.0.0.1:11434/v1 --model qwen3-coder --tag local
run use deepseek
run list --verbose
run show deepseek
run apply deepseek -- sh -c 'echo "child sees ANTHROPIC_MODEL=$ANTHROPIC_MODEL"'
run agents list
run agents check aiswitch-agent --preset deepseek --prompt "env ANTHROPIC_BASE_URL"
run env switch aiswitch-agent ollama --verify
run env show aiswitch-agent
run env switch aiswitch-agent deepseek --verify --probe "env ANTHROPIC_BASE_URL"
run env snapshots aiswitch-agent
printf '\n(all files are under %s)\n' "$AISWITCH_HOME"
