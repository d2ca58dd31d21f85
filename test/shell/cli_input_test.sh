#!/usr/bin/env bash
# Standard input as shmkv reads it: a read error (a directory, an endless
# line under ulimit -v) is an error, exit 3 and one line, never taken for the
# end of the input, for commands and for restore alike; an error about
# restore's file has no hint about the connection; and a command line may
# end in CRLF.
. "$(dirname "$0")/lib.sh"
start_daemon

# expect_error RC ERR PATTERN WHAT: exit 3 and one line like PATTERN.
expect_error() {
  expect_eq "$1" 3 "$4: exit status"
  [[ $2 == $3 ]] || fail "$4: expected an error like '$3', got '$2'"
  expect_eq "$(printf '%s\n' "$2" | wc -l)" 1 "$4: lines on stderr"
}

run_cli -p "$PORT" </tmp
expect_error "$RC" "$ERR" "shmkv: read standard input after line 0: Is a directory" "commands from a directory"

RC=0; (ulimit -v 400000; exec "$SHMKV" -p "$PORT" </dev/zero) >/dev/null 2>"$WORK/err" || RC=$?
expect_error "$RC" "$(cat "$WORK/err")" "shmkv: read standard input after line 0: Cannot allocate memory" \
  "commands from one endless line, ulimit -v"

RC=0; (ulimit -v 400000; exec "$SHMKV" -p "$PORT" restore /dev/zero) >"$WORK/out" 2>"$WORK/err" || RC=$?
expect_error "$RC" "$(cat "$WORK/err")" "shmkv: read the dump: Cannot allocate memory" "restore of one endless line, ulimit -v"
RC=0; (ulimit -v 400000; exec "$SHMKV" -p "$PORT" restore) </dev/zero >"$WORK/out" 2>"$WORK/err" || RC=$?
expect_error "$RC" "$(cat "$WORK/err")" "shmkv: read the dump: Cannot allocate memory" "restore from standard input, ulimit -v"

run_cli -p "$PORT" restore /nonexistent
expect_error "$RC" "$ERR" "shmkv: read the dump /nonexistent: No such file or directory" "restore of a missing file"
run_cli -p "$PORT" restore /tmp
expect_error "$RC" "$ERR" "shmkv: read the dump: Is a directory" "restore of a directory"

# CRLF line ends: the \r is not part of the key or value.
run_cli -p "$PORT" < <(printf 'put crlf "v"\r\nget crlf\r\nget -r crlf\r\n')
expect_eq "$RC:$OUT:$ERR" $'0:"v"\nv:' "commands with CRLF line ends"
expect_eq "$("$SHMKV" -p "$PORT" get crlf)" '"v"' "the key written with CRLF"
echo PASS
