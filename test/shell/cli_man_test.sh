#!/usr/bin/env bash
# The man pages render JSON with its double quotes: on an mdoc macro line an
# argument that starts with " is a quoted argument, so the quotes of JSON in
# .Ql must be written \(dq. No daemon.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/man"
shmkv1=$(mandoc -Tascii -O width=400 shmkv.1 | col -b)
protocol7=$(mandoc -Tascii -O width=400 shmkv-protocol.7 | col -b)
[[ $shmkv1 == *'{"response": "ok", "keys": 120, "bytes": 7920, "ms": 12}'* ]] \
  || fail "shmkv(1): the SAVE reply is not rendered as JSON"
[[ $shmkv1 == *'{"obj": KEY, "val": VALUE}'* ]] || fail "shmkv(1): the dump line is not rendered as JSON"
[[ $protocol7 == *'"val_text": STRING'* ]] || fail "shmkv-protocol(7): val_text is not rendered as JSON"
# No .Ql line in any page holds a bare double quote.
if grep -nE '^\.Ql .*"' *.[178]; then
  fail "a double quote on a .Ql line (above) is lost in rendering: write \\(dq"
fi
echo PASS
