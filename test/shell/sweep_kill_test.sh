#!/usr/bin/env bash
# Idle workers sweep expired keys; killing them, in a sweep or not, loses
# nothing and leaves no expired key behind.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
timeout 120 python3 sweep_kill.py "$PORT" "$DAEMON_PID" "$DAEMON_LOG"
