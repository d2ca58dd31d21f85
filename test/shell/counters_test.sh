#!/usr/bin/env bash
# INCR and PUT if absent are atomic across processes.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
timeout 120 python3 counters.py "$PORT"
