#!/usr/bin/env bash
# shmkv and shmkv-bench started with a standard descriptor closed (cmd >&-,
# 2>&-, <&-) open /dev/null on it first, so that their connection never takes
# 0, 1 or 2: what they print is not sent to the server as requests, and the
# server's bytes are not read as commands.
. "$(dirname "$0")/lib.sh"
start_daemon --log-level debug

# A string whose get -r text is a whole version-2 frame: DELETE "victim".
body='{"func": "DELETE", "params": {"obj": "victim"}}'
header=$(printf '\\u0002\\u0000\\u0000\\u0000\\u%04x\\u0000\\u0000\\u0000' ${#body})
"$SHMKV" -p "$PORT" put victim '"precious"'
"$SHMKV" -p "$PORT" put evil "\"$header${body//\"/\\\"}\""
[ "$("$SHMKV" -p "$PORT" get -r evil | head -c 4 | od -An -tx1 | tr -d ' ')" = 02000000 ] \
  || fail "the planted value does not start with a version-2 header"

rc=0; "$SHMKV" -p "$PORT" get -r evil >&- || rc=$?
expect_eq "$rc" 0 "get -r with standard output closed"
expect_eq "$("$SHMKV" -p "$PORT" get victim)" '"precious"' "victim after get -r evil >&-"

# An error line with standard error closed goes nowhere, not to the server
# (which would log the bytes as a bad frame).
rc=0; "$SHMKV" -p "$PORT" get nokey 2>&- || rc=$?
expect_eq "$rc" 1 "get of a key not set with standard error closed"
rc=0; "$SHMKV" -p "$PORT" -t 10 call FROB '{"x": 1}' 2>&- || rc=$?
expect_eq "$rc" 0 "call of an unknown function with standard error closed"
# No command and standard input closed: no commands, not the server's bytes
# (the old code waited for -t and its read of the socket).
rc=0; timeout 5 "$SHMKV" -p "$PORT" -t 30 <&- || rc=$?
expect_eq "$rc" 0 "commands from a closed standard input"
rc=0; "$ROOT/$BUILD/shmkv-bench" -p "$PORT" -c 1 -n 20 -r 10 >&- || rc=$?
expect_eq "$rc" 0 "shmkv-bench with standard output closed"
rc=0; "$ROOT/$BUILD/shmkv-bench" -p "$PORT" -c 1 -n 20 -r 10 --json >&- 2>&- || rc=$?
expect_eq "$rc" 0 "shmkv-bench --json with standard output and error closed"

sleep 0.3  # the workers log what they read
if grep -E 'unsupported protocol version|is not set|shmkv-bench' "$DAEMON_LOG"; then
  fail "the daemon read a client's output as a request (lines above)"
fi
expect_eq "$("$SHMKV" -p "$PORT" get victim)" '"precious"' "victim at the end"
echo PASS
