#!/usr/bin/env bash
# shmkv get/put against a live shmkvd: output, messages and exit statuses.
. "$(dirname "$0")/lib.sh"
start_daemon

run() {  # run ARGS...: sets OUT, ERR and RC
  RC=0
  "$SHMKV" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}

run -p "$PORT" put greeting '"hello\nworld"'
expect_eq "$RC" 0 "put exit status"
expect_eq "$OUT$ERR" "" "put output"
run -p "$PORT" get greeting
expect_eq "$RC:$OUT" '0:"hello\nworld"' "get prints the value's JSON"
run -p "$PORT" put n -1.50
run -p "$PORT" get n
expect_eq "$RC:$OUT" "0:-1.50" "negative number value (not an option)"

run -p "$PORT" get absent
expect_eq "$RC:$OUT" "1:" "get of a missing key"
[[ $ERR == *'"absent" is not set'* ]] || fail "missing key message: $ERR"

run -p "$PORT" put bad '{"a": 01}'
expect_eq "$RC" 2 "put of bad JSON"
[[ $ERR == *"malformed JSON at byte 6"* ]] || fail "bad JSON message: $ERR"
run -p "$PORT" get bad
expect_eq "$RC" 1 "bad JSON was not stored"

run -p "$PORT" frob
expect_eq "$RC" 2 "unknown command"
[[ $ERR == *"unknown command 'frob'"*"shmkv --help"* ]] || fail "unknown command message: $ERR"
run -p "$PORT" get
expect_eq "$RC" 2 "get without a key"
run -p 0 get x
expect_eq "$RC" 2 "bad port"

# Nothing listens on a fresh free port: exit 3, naming host and port.
dead=$(free_port)
run -p "$dead" -t 2 get x
expect_eq "$RC" 3 "unreachable server"
[[ $ERR == *"127.0.0.1:$dead"* ]] || fail "unreachable message does not name the address: $ERR"

run --version
[[ $RC == 0 && $OUT == "shmkv "* ]] || fail "--version: $RC $OUT"
run --help
[[ $RC == 0 && $OUT == usage:* ]] || fail "--help: $RC $OUT"
