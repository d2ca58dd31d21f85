#!/usr/bin/env bash
# Chaos: workers SIGKILLed at random under mixed load lose no acknowledged
# write, and the daemon keeps answering.
. "$(dirname "$0")/lib.sh"
start_daemon --spare-workers 4
cd "$ROOT/test/shell"
python3 chaos.py "$PORT" "$DAEMON_PID" "${CHAOS_SECONDS:-20}"
kill -0 "$DAEMON_PID" || fail "shmkvd died"
if grep -q "recovery of store .* failed" "$DAEMON_LOG"; then fail "a recovery failed: $(grep 'failed' "$DAEMON_LOG" | head -3)"; fi
