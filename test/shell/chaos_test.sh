#!/usr/bin/env bash
# Chaos: workers SIGKILLed and SIGSTOPped at random, workers stopped while
# they hold the store lock, and recoveries' salvage processes SIGKILLed,
# under mixed load: no acknowledged write is lost, and the daemon keeps
# answering. Each salvage sleeps 100 ms first, so that it can be killed.
. "$(dirname "$0")/lib.sh"
export SHMKVD_DEBUG_SALVAGE_DELAY_MS=100
start_daemon --spare-workers 4 --debug-commands --lock-timeout 1
unset SHMKVD_DEBUG_SALVAGE_DELAY_MS
cd "$ROOT/test/shell"
python3 chaos.py "$PORT" "$DAEMON_PID" "${CHAOS_SECONDS:-20}"
kill -0 "$DAEMON_PID" || fail "shmkvd died"
if grep -q "recovery of store .* failed" "$DAEMON_LOG"; then fail "a recovery failed: $(grep 'failed' "$DAEMON_LOG" | head -3)"; fi
grep -qE "worker [0-9]+ held the store lock for [0-9.]+ s: killed" "$DAEMON_LOG" || fail "no stopped lock holder was killed"
grep -q "salvage attempt [0-9]* failed: the salvage process was killed by signal 9" "$DAEMON_LOG" ||
  fail "no killed salvage was retried"
