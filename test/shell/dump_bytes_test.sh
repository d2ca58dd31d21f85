#!/usr/bin/env bash
# shmkv dump and restore of bytes values (written over RESP): every one of
# the 256 byte values, text that is not UTF-8, text that is; dump writes them
# as "bytes": BASE64, restore into a fresh daemon gives every key back byte
# for byte over RESP, with its kind and expiry; a plain JSON GET of a binary
# value still answers the documented error; dump --format resp writes the
# bytes as they are, and redis-cli --pipe loads them.
. "$(dirname "$0")/lib.sh"
export PYTHONPATH=$ROOT/test/shell
BYTES="/usr/bin/python3 $ROOT/test/shell/dump_bytes.py"
RESP=1

start_daemon
$BYTES load "$RESP_PORT"
"$SHMKV" -p "$PORT" put json:obj '{"a": [1, 2.50]}'
"$SHMKV" -p "$PORT" put json:null null
"$SHMKV" -p "$PORT" put json:str '"text"'
$BYTES state "$RESP_PORT" "$PORT" > "$WORK/before"
expect_eq "$(wc -l < "$WORK/before")" 267 "keys written"
grep -q '^byte:255 ff bytes ff none$' "$WORK/before" || fail "byte 255: $(grep '^byte:255' "$WORK/before")"
grep -q '^json:null 6e756c6c json null none$' "$WORK/before" || fail "a stored null: $(grep '^json:null' "$WORK/before")"

# The JSON protocol without the new params is as it was.
reply=$(python3 "$WIRE" "$PORT" 2 '{"func": "GET", "params": {"obj": "not-utf8"}}')
expect_eq "$reply" '{"status": "ERROR", "error": "value of not-utf8 is binary: read it over RESP"}' "plain GET of a binary value"
reply=$(python3 "$WIRE" "$PORT" 2 '{"func": "GET", "params": {"obj": "utf8"}}')
expect_eq "$reply" '{"status": "OK", "response": {"func": "GET", "response": {"obj": "utf8", "val": "h\u00e9llo \u2603\n"}}}' "plain GET of a UTF-8 bytes value"

run_cli -p "$PORT" dump
expect_eq "$RC" 0 "dump's exit status ($ERR)"
cp "$WORK/out" "$WORK/dump.jsonl"
expect_eq "$(wc -l < "$WORK/dump.jsonl")" 267 "lines in the dump"
grep -qxF '{"obj": "not-utf8", "bytes": "Y2Fm6SDDKCDwKIy8IP/+"}' "$WORK/dump.jsonl" ||
  fail "the binary value's line: $(grep not-utf8 "$WORK/dump.jsonl")"
grep -qE '^\{"obj": "expiring-bytes", "bytes": "AAH/", "ttl": 99[0-9]\.[0-9]+\}$' "$WORK/dump.jsonl" ||
  fail "the expiring bytes value's line: $(grep expiring-bytes "$WORK/dump.jsonl")"
grep -qxF '{"obj": "json:obj", "val": {"a": [1, 2.50]}}' "$WORK/dump.jsonl" || fail "a JSON value's line"
run_cli -p "$PORT" dump --format resp
expect_eq "$RC" 0 "dump --format resp's exit status ($ERR)"
cp "$WORK/out" "$WORK/dump.resp"
stop_daemon
rm -f "/dev/shm/$NAME"

# dump | restore into a fresh daemon: the same store.
start_daemon
run_cli -p "$PORT" restore "$WORK/dump.jsonl"
expect_eq "$RC" 0 "restore's exit status ($ERR)"
expect_eq "$OUT" "restored 267 keys" "restore's count"
$BYTES state "$RESP_PORT" "$PORT" > "$WORK/after"
diff "$WORK/before" "$WORK/after" > "$WORK/diff" || fail "the restored store differs: $(head -n 6 "$WORK/diff")"
reply=$(python3 "$WIRE" "$PORT" 2 '{"func": "GET", "params": {"obj": "not-utf8"}}')
expect_eq "$reply" '{"status": "ERROR", "error": "value of not-utf8 is binary: read it over RESP"}' "plain GET after restore"
stop_daemon
rm -f "/dev/shm/$NAME"

# dump --format resp | redis-cli --pipe into a fresh shmkvd's RESP port: the
# same bytes (every value arrives as bytes, JSON text included).
start_daemon
redis-cli -p "$RESP_PORT" --pipe < "$WORK/dump.resp" > "$WORK/pipe.out" || fail "redis-cli --pipe: $(cat "$WORK/pipe.out")"
grep -q "errors: 0, replies: 267" "$WORK/pipe.out" || fail "redis-cli --pipe said: $(cat "$WORK/pipe.out")"
$BYTES state "$RESP_PORT" "$PORT" > "$WORK/piped"
# Compare the RESP bytes and expiry only (fields 1, 2 and 5): JSON values
# arrive as bytes.
cut -d' ' -f1,2 "$WORK/before" > "$WORK/before.bytes"
cut -d' ' -f1,2 "$WORK/piped" > "$WORK/piped.bytes"
diff "$WORK/before.bytes" "$WORK/piped.bytes" > "$WORK/diff" || fail "RESP dump loaded differs: $(head -n 6 "$WORK/diff")"
grep -q '^expiring-bytes 0001ff bytes 0001ff about 1000 s$' "$WORK/piped" || fail "PXAT lost: $(grep expiring "$WORK/piped")"
echo PASS
