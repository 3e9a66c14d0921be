#!/usr/bin/env bash
# Re-records the real agent CLI output the driver tests read
# (tests/fixtures/agent-output/, with its README): the real-CLI suite runs each CLI at
# the version pinned in scripts/install-real-clis.sh against the fake provider and
# writes what each printed. Run after bumping a pinned version, then fix what
# `cargo test fixture_tests` reports.
set -euo pipefail
cd "$(dirname "$0")/.."
AISWITCH_RECORD_FIXTURES="$PWD/tests/fixtures/agent-output" \
  cargo test --locked --test real_cli -- --nocapture
