#!/usr/bin/env bash
# SIGTERM stops shmkvd cleanly (exit 0); started again on the same segment it
# serves the same data; the segment is readable by its owner only.
. "$(dirname "$0")/lib.sh"
start_daemon --memory 8M
"$SHMKV" -p "$PORT" put restart:obj '{"n": [1, 2.0, 12345678901234567890123]}'
"$SHMKV" -p "$PORT" put restart:str '"\u2603"'
mode=$(stat -c '%A %U' "/dev/shm/$NAME")
expect_eq "$mode" "-rw------- $(id -un)" "mode and owner of /dev/shm/$NAME"

stop_daemon
expect_eq "$DAEMON_STATUS" 0 "exit status after SIGTERM"
grep -q 'info: stopped' "$DAEMON_LOG" || fail "no 'stopped' line in the log"
[ -e "/dev/shm/$NAME" ] || fail "the segment was removed at stop"

start_daemon --memory 16M
expect_eq "$("$SHMKV" -p "$PORT" get restart:obj)" '{"n": [1, 2.0, 12345678901234567890123]}' "value after restart"
expect_eq "$("$SHMKV" -p "$PORT" get restart:str)" '"\u2603"' "string after restart"
grep -q "serving store $NAME (attached, 2 keys" "$DAEMON_LOG" || fail "restart did not attach the existing store"
expect_eq "$(stat -c %s "/dev/shm/$NAME")" $((8 << 20)) "segment size kept across restart"

# SIGKILL, and at once a start on the same store: the dead daemon's workers
# hold the store a moment longer (here one holds its lock for 1.5 s, asked
# by DEBUG); the start waits for them (up to 3 s) instead of failing, as a
# service manager's restart would.
stop_daemon
start_daemon --memory 8M --debug-commands
python3 "$WIRE" "$PORT" 2 '{"func": "DEBUG", "params": {"hold_lock_ms": 1500}}' >/dev/null &
holder=$!
sleep 0.3
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" || true
DAEMON_PID=
start_daemon --memory 8M
wait "$holder" || true
expect_eq "$("$SHMKV" -p "$PORT" get restart:obj)" '{"n": [1, 2.0, 12345678901234567890123]}' "the data after a restart at once"

# A segment that is not a shmkv store is refused with a clear message.
stop_daemon
head -c 65536 /dev/zero | tr '\0' 'Z' > "/dev/shm/$NAME"
chmod 600 "/dev/shm/$NAME"  # as its own would be: refused for what it holds
rc=0
"$SHMKVD" --port "$(free_port)" --name "$NAME" 2>"$WORK/refused.log" || rc=$?
expect_eq "$rc" 1 "exit status on a foreign segment"
grep -q "shared memory segment $NAME" "$WORK/refused.log" || fail "unclear refusal: $(cat "$WORK/refused.log")"
