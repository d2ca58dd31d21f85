#!/usr/bin/env bash
# Concurrent client processes: every acknowledged PUT is visible to every
# later GET on any connection.
. "$(dirname "$0")/lib.sh"
start_daemon
mkdir "$WORK/acks"
cd "$ROOT/test/shell"
python3 concurrent_clients.py "$PORT" "$WORK/acks"
