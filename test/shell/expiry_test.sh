#!/usr/bin/env bash
# Expiry: PUT's ttl, EXPIRE and TTL, active expiry of keys nobody reads, and
# expiry times that outlive a daemon restart.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"
start_daemon
timeout 60 python3 expiry.py "$PORT"
timeout 20 python3 expiry.py "$PORT" restart-before
stop_daemon
expect_eq "$DAEMON_STATUS" 0 "shmkvd's exit status"
start_daemon
timeout 30 python3 expiry.py "$PORT" restart-after
