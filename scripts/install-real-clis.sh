#!/usr/bin/env bash
# Installs the real agent CLIs the real-CLI suite (tests/real_cli.rs) drives, from the
# npm registry, at pinned versions, each into its own prefix under the cache
# directory; a version already there is reused. Prints one line per package. Safe
# to run several at once (they take turns).
#   AISWITCH_REAL_CLI_CACHE   where (default: ~/.cache/aiswitch/real-cli)
set -euo pipefail
cache="${AISWITCH_REAL_CLI_CACHE:-$HOME/.cache/aiswitch/real-cli}"
mkdir -p "$cache"
# One install at a time: the suite's tests each call this at once, and two npm
# installs into one prefix break each other. The others wait, then reuse.
exec 9>"$cache/.lock"
flock 9
# package@version, pinned: bump them here (the suite reads this list).
packages=(
  @anthropic-ai/claude-code@2.1.331
  @openai/codex@0.169.0
  @google/gemini-cli@0.61.0
  @qwen-code/qwen-code@0.24.4
  opencode-ai@1.18.33
  @zed-industries/claude-agent-acp@0.23.1
  @zed-industries/codex-acp@0.16.0
)
for spec in "${packages[@]}"; do
  dir="$cache/$(printf '%s' "$spec" | tr '/@' '__')"
  if [ -f "$dir/.installed" ]; then
    echo "reused    $spec"
    continue
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  started=$(date +%s)
  if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$spec" >"$dir.log" 2>&1; then
    echo "install of $spec failed; see $dir.log" >&2
    tail -20 "$dir.log" >&2
    exit 1
  fi
  touch "$dir/.installed"
  echo "installed $spec in $(( $(date +%s) - started ))s"
done
