#!/usr/bin/env bash
# shmkv never dies of std::bad_alloc: a value on standard input is read up to
# the largest request any server accepts and no further, and running out of
# memory (a ulimit -v) on a huge value or a huge reply is one line on stderr
# and exit 3, not an abort. No daemon: the value is refused before connecting,
# and the huge reply comes from a stand-in server.
. "$(dirname "$0")/lib.sh"

# expect_one_line RC ERR PATTERN WHAT
expect_one_line() {
  expect_eq "$1" 3 "$4: exit status"
  [[ $2 == $3 ]] || fail "$4: expected an error like '$3', got '$2'"
  expect_eq "$(printf '%s\n' "$2" | wc -l)" 1 "$4: lines on stderr"
}

# An endless value under a 400 MB address-space cap.
for form in "put k -" "put --string k -"; do
  RC=0; (ulimit -v 400000; exec "$SHMKV" -p 9 $form </dev/zero) 2>"$WORK/err" || RC=$?
  expect_one_line "$RC" "$(cat "$WORK/err")" "shmkv: out of memory reading standard input*" "$form </dev/zero, ulimit -v"
done

# An endless value with room for the largest request: refused at the bound.
RC=0; (ulimit -v 2000000; exec "$SHMKV" -p 9 put k - </dev/zero) 2>"$WORK/err" || RC=$?
expect_one_line "$RC" "$(cat "$WORK/err")" \
  "shmkv: standard input holds more than 1074790400 bytes, more than any server accepts" "put k - </dev/zero"

# A server that answers GET with a 700 MiB value, under a 1.5 GB cap.
start_helper "$WORK/big.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/big.ready" big 700
RC=0; (ulimit -v 1500000; exec "$SHMKV" -p "$(cat "$WORK/big.ready")" -t 20 get k) >/dev/null 2>"$WORK/err" || RC=$?
expect_one_line "$RC" "$(cat "$WORK/err")" "shmkv: out of memory: *" "a 700 MiB reply, ulimit -v"
echo PASS
