#!/usr/bin/env bash
# The original dictionary server's client works against shmkvd unchanged.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
python3 original_client.py "$PORT"
# And shmkv reads what it stored.
expect_eq "$("$SHMKV" -p "$PORT" get compat-0)" "12345678901234567890123" "shmkv get of a big integer"
