#!/usr/bin/env bash
# Options of shmkv and shmkv-bench that once were taken wrongly: an empty -s
# is a usage error (it meant TCP to the default server), not a connection.
. "$(dirname "$0")/lib.sh"
BENCH=$ROOT/$BUILD/shmkv-bench

# A daemon on a free port, named by SHMKV_PORT: -s '' must not reach it.
start_daemon
export SHMKV_PORT=$PORT
run_cli -s '' put k 1
expect_eq "$RC:$ERR" "2:shmkv: -s needs a socket path, not '' (see 'shmkv --help')" "shmkv -s ''"
run_cli -s '' get k
expect_eq "$RC" 2 "shmkv -s '' get"
RC=0; "$BENCH" -s '' -n 1 -c 1 >/dev/null 2>"$WORK/err" || RC=$?
expect_eq "$RC:$(cat "$WORK/err")" "2:shmkv-bench: -s needs a socket path, not ''
Try 'shmkv-bench --help'." "shmkv-bench -s ''"
expect_eq "$("$SHMKV" -p "$PORT" get k 2>&1 || true)" 'shmkv: "k" is not set' "nothing was stored"
echo PASS
