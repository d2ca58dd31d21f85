#!/usr/bin/env bash
# Crash recovery: a worker dying in the store costs no acknowledged data and
# at most a few seconds of service; the log says what happened.
. "$(dirname "$0")/lib.sh"
start_daemon --debug-commands
cd "$ROOT/test/shell"
python3 crash_in_store.py "$PORT" | tee "$WORK/out"
victim=$(tail -n 1 "$WORK/out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["victim"])')
grep -q "worker $victim killed by signal 9 (Killed) in the store" "$DAEMON_LOG" || fail "the kill was not logged"
grep -q "store $NAME recovered after worker $victim killed by signal 9" "$DAEMON_LOG" || fail "recovery not logged"
grep -q "killed by signal 6 (Aborted) in the store" "$DAEMON_LOG" || fail "the abort was not logged"
expect_eq "$(grep -c "store $NAME recovered" "$DAEMON_LOG")" 2 "recoveries logged"
[ -e "/dev/shm/$NAME.salvage" ] && fail "salvage segment left behind"

# Without --debug-commands, DEBUG is an unknown function.
stop_daemon
start_daemon
reply=$(python3 wire.py "$PORT" 2 '{"func": "DEBUG", "params": {"crash": "in_store"}}')
expect_eq "$reply" '{"status": "OK", "response": {"func": "DEBUG", "response": "ERROR - Function doesn'"'"'t exist"}}' "DEBUG without --debug-commands"
