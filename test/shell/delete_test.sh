#!/usr/bin/env bash
# shmkv del: a deleted key is gone for every other connection; deleting an
# absent key exits 1; escaped spellings of a key are the same key.
. "$(dirname "$0")/lib.sh"
start_daemon
PROBE=$ROOT/$BUILD/test/client_probe

"$SHMKV" -p "$PORT" put doomed '{"a": 1}'
run_cli -p "$PORT" del doomed
expect_eq "$RC:$OUT$ERR" "0:" "del of a stored key"
run_cli -p "$PORT" get doomed
expect_eq "$RC:$OUT" "1:" "get after del, on another connection"
reply=$(python3 "$ROOT/test/shell/wire.py" "$PORT" 2 '{"func": "GET", "params": {"obj": "doomed"}}')
expect_eq "$reply" '{"status": "OK", "response": {"func": "GET", "response": {"obj": "doomed", "val": null}}}' \
  "a raw GET after del answers null"

run_cli -p "$PORT" del doomed
expect_eq "$RC:$OUT" "1:" "del of an absent key"
expect_eq "$ERR" 'shmkv: "doomed" is not set' "del of an absent key: message"

# Through the library: one connection deletes, another, open all along, reads.
"$SHMKV" -p "$PORT" put shared 7
expect_eq "$("$PROBE" "$PORT" delete shared)" "before: 7
after: null" "DELETE seen by a connection that was open before it"

# Over one connection from standard input; "a\u0062" is the key "ab".
"$SHMKV" -p "$PORT" put ab 1
printf 'del "a\\u0062"\ndel ab\nget ab\n' >"$WORK/commands"
run_cli -p "$PORT" <"$WORK/commands"
expect_eq "$RC:$OUT" "1:" "del twice over one connection"
expect_eq "$ERR" 'shmkv: line 2: "ab" is not set
shmkv: line 3: "ab" is not set' "del twice: messages"
