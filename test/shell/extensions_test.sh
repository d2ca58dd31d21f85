#!/usr/bin/env bash
# DELETE, KEYS and STATS against a live shmkvd.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
python3 extensions.py "$PORT"
