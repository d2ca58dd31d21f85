#!/usr/bin/env bash
# The examples in examples/ run against a live shmkvd and print what they
# promise, so that they cannot rot: python_client.py (the original client's
# style), client.cpp (the library; built by make as build/examples/client)
# and counter.sh (a script on shmkv).
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT"

out=$(python3 examples/python_client.py "$PORT")
expect_eq "$out" 'stored and read back: {"colour": [255, 128, 0], "big": 12345678901234567890123, "ratio": 0.5, "name": "snøw ☃"}
exactly the same value: True
deleted: True
after delete: None
unknown function: ERROR - Function doesn'"'"'t exist' "python_client.py"

out=$("$BUILD/examples/client" "$PORT")
expect_eq "$out" 'example:greeting = {"text": "hello", "n": 1.50}
a batch of 10 PUTs: 10 stored
example:item: holds 10 keys, in 3 pages of at most 4
after del: "example:greeting" is not set
the store holds 10 keys' "examples/client"

export PATH="$ROOT/$BUILD:$PATH" SHMKV_PORT=$PORT
expect_eq "$(examples/counter.sh home)" 1 "first visit"
expect_eq "$(examples/counter.sh home 2>&1)" 2 "second visit, nothing on stderr"
expect_eq "$(examples/counter.sh 'about us')" 1 "a page name with a blank"
examples/counter.sh home >/dev/null
expect_eq "$(examples/counter.sh)" '3 home
1 about us' "the counts, most visited first"
expect_eq "$("$SHMKV" get visits:home)" 3 "the count is a JSON number"
rc=0
SHMKV_PORT=$(free_port) examples/counter.sh home >"$WORK/out" 2>"$WORK/err" || rc=$?
expect_eq "$rc:$(cat "$WORK/out")" "3:" "counter.sh with no server"
[[ $(cat "$WORK/err") == "shmkv: connect 127.0.0.1:"*"Connection refused"* ]] ||
  fail "counter.sh passes shmkv's error on: $(cat "$WORK/err")"
