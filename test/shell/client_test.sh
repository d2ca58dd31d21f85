#!/usr/bin/env bash
# The client library, through test/shell/client_probe.cpp: against a live
# shmkvd, a pipelined batch of 1,000 requests gets 1,000 replies in order;
# against a server that closes in the middle of a reply, an error, not a hang.
. "$(dirname "$0")/lib.sh"
start_daemon --log-level debug
PROBE=$ROOT/$BUILD/test/client_probe

before=$(grep -c 'connection from' "$DAEMON_LOG" || true)
out=$(timeout 60 "$PROBE" "$PORT" batch 1000)
expect_eq "$out" "1000 PUTs and 1000 GETs pipelined: 2000 replies, each in its place" "pipelined batches"
expect_eq "$(( $(grep -c 'connection from' "$DAEMON_LOG") - before ))" 1 "connections for both batches"
expect_eq "$("$SHMKV" -p "$PORT" get batch:999)" '{"i": 999, "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' \
  "the last PUT of the batch, read by another client"

start_helper "$WORK/cut.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/cut.ready" cut
cut=$(cat "$WORK/cut.ready")
rc=0
timeout 10 "$PROBE" "$cut" get k >"$WORK/out" 2>"$WORK/err" || rc=$?
expect_eq "$rc:$(cat "$WORK/out")" "1:" "a reply cut short: exit status and output"
expect_eq "$(cat "$WORK/err")" "io: 127.0.0.1:$cut closed the connection in the middle of a reply" \
  "a reply cut short is an I/O error"
run_cli -p "$cut" get k
expect_eq "$RC:$OUT" "3:" "shmkv against a reply cut short"
[[ $ERR == "shmkv: 127.0.0.1:$cut closed the connection in the middle of a reply ("* ]] ||
  fail "shmkv's message for a reply cut short: $ERR"
