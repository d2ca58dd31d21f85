#!/usr/bin/env bash
# shmkv-bench's report and limits: a report that cannot be written is an
# error; --json stays JSON (valid UTF-8) when a reply held bytes that are
# not; -t below a millisecond is a millisecond, not "never"; and the load
# phase of --local stops at the first error reply (a full store).
. "$(dirname "$0")/lib.sh"
BENCH=$ROOT/$BUILD/shmkv-bench
start_daemon --memory 1M

# A report to a full disk.
for form in "--json" ""; do
  RC=0; "$BENCH" -p "$PORT" -c 1 -n 10 -r 10 $form >/dev/full 2>"$WORK/err" || RC=$?
  expect_eq "$RC:$(cat "$WORK/err")" "1:shmkv-bench: write the report to standard output: No space left on device" \
    "report ${form:-as text} to /dev/full"
done
RC=0; "$BENCH" --local "$NAME" -n 10 -r 10 >/dev/full 2>"$WORK/err" || RC=$?
expect_eq "$RC:$(cat "$WORK/err")" "1:shmkv-bench: write the report to standard output: No space left on device" \
  "--local report to /dev/full"

# A server whose every reply is a GET of a string with bytes that are not
# UTF-8, and a line break and an ESC.
start_helper "$WORK/bad.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/bad.ready" reply \
  $'{"status": "OK", "response": {"func": "GET", "response": {"obj": "a", "val": "\xff\xfe\n\e[31m"}}}'
BAD=$(cat "$WORK/bad.ready")
RC=0; "$BENCH" -p "$BAD" -c 1 -n 4 -r 2 --get-ratio 1 --json >"$WORK/json" 2>"$WORK/err" || RC=$?
expect_eq "$RC" 1 "a bench of wrong replies"
/usr/bin/python3 - "$WORK/json" <<'PY' || fail "--json output with a non-UTF-8 reply is not JSON: $(cat "$WORK/json")"
import json, sys
report = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert report["wrong_replies"] == 4, report
assert report["error_examples"] and all("\n" not in e and "\x1b" not in e for e in report["error_examples"]), report
PY
RC=0; "$BENCH" -p "$BAD" -c 1 -n 4 -r 2 --get-ratio 1 >"$WORK/text" 2>"$WORK/err" || RC=$?
expect_eq "$RC" 1 "a bench of wrong replies, as text"
grep -q $'\e' "$WORK/text" && fail "a raw ESC in the report: $(cat -v "$WORK/text")"
grep -q $'\xff' "$WORK/text" && fail "a byte that is not UTF-8 in the report: $(cat -v "$WORK/text")"
grep -q 'e\.g\..*\\xff\\xfe' "$WORK/text" || fail "the bad bytes are not shown escaped: $(cat -v "$WORK/text")"

# -t 0.0004 against a server that never answers: 1 ms, a connection error.
start_helper "$WORK/silent.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/silent.ready" silent
RC=0; timeout -k 1 20 "$BENCH" -p "$(cat "$WORK/silent.ready")" -c 1 -n 1 -t 0.0004 >"$WORK/out" 2>&1 || RC=$?
expect_eq "$RC" 1 "-t 0.0004 against a silent server (124: it waited)"
grep -q '1 connection errors' "$WORK/out" || fail "-t 0.0004: $(cat "$WORK/out")"

# Loading 300000 keys into a 1 MiB store: it stops at the first "store is
# full" (with the requests in flight, two connections of 32), not after
# hundreds of thousands of refused PUTs.
RC=0; timeout -k 1 60 "$BENCH" --local "$NAME" -p "$PORT" -r 300000 -n 10 >"$WORK/out" 2>"$WORK/err" || RC=$?
expect_eq "$RC" 1 "--local load into a full store"
[[ $(cat "$WORK/err") =~ ^shmkv-bench:\ ([0-9]+)\ errors\ putting\ the\ keyspace:.*store\ is\ full ]] \
  || fail "--local load into a full store: $(cat "$WORK/err")"
(( BASH_REMATCH[1] <= 64 )) || fail "the load went on after the store was full: ${BASH_REMATCH[1]} errors"
echo PASS
