#!/usr/bin/env bash
# Bad input from raw sockets gets its exact error reply or a clean close; the
# daemon keeps serving, keeps its data, and loses no worker to a crash.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
python3 bad_input.py "$PORT"
kill -0 "$DAEMON_PID" || fail "shmkvd died"
if grep -E 'killed by signal|exited with status' "$DAEMON_LOG"; then fail "a worker crashed"; fi
grep -q 'closing connection from 127.0.0.1:[0-9]*: unsupported protocol version 7' "$DAEMON_LOG" ||
  fail "the framing error was not logged with the peer"
