#!/usr/bin/env bash
# shmkv stats: the numbers are the store's and the daemon's (keys stored, an
# open idle connection counted), aligned for people, or the JSON object.
. "$(dirname "$0")/lib.sh"
start_daemon

for i in $(seq 25); do echo "put stat$i $i"; done | "$SHMKV" -p "$PORT" || fail "storing 25 keys"
"$SHMKV" -p "$PORT" del stat25

# stat NAME: one member of the STATS object, through --json.
stat() {
  "$SHMKV" -p "$PORT" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
expect_eq "$(stat keys)" 24 "keys, after 25 PUTs and a DELETE"
expect_eq "$(stat pid)" "$DAEMON_PID" "pid"
expect_eq "$(stat version)" "$("$SHMKV" --version | cut -d' ' -f2)" "version"
"$SHMKV" -p "$PORT" stats --json | python3 -c '
import json, sys
stats = json.load(sys.stdin)
for name in ("keys", "store_bytes", "store_free_bytes", "connections_active", "connections_total",
             "requests_total", "uptime_seconds", "pid", "worker_pid"):
    assert type(stats[name]) is int and stats[name] >= 0, f"{name}: {stats.get(name)!r}"
assert stats["store_free_bytes"] < stats["store_bytes"], stats
' || fail "stats --json members"

# The aligned form: every member, the values in one column, strings unquoted.
run_cli -p "$PORT" stats
expect_eq "$RC:$ERR" "0:" "stats exit status"
echo "$OUT" | awk '
  { match($0, /^[^ ]+ +/); if (NR == 1) first = RLENGTH; else if (RLENGTH != first) bad = 1 }
  $1 == "keys" && $2 != 24 { bad = 1 }
  $1 == "version" && $2 ~ /"/ { bad = 1 }
  END { exit bad || NR < 10 }' || fail "stats is not aligned name/value lines: $OUT"

# An open idle connection is counted, and no longer once it is closed. The
# count includes the connection that asks.
expect_eq "$(stat connections_active)" 1 "connections_active alone"
start_helper "$WORK/idle.ready" python3 -c '
import signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write("connected\n")
signal.pause()' "$PORT" "$WORK/idle.ready"
for i in $(seq 100); do [ "$(stat connections_active)" = 2 ] && break; sleep 0.05; done
expect_eq "$(stat connections_active)" 2 "connections_active with an idle connection open"
stop_helpers
for i in $(seq 100); do [ "$(stat connections_active)" = 1 ] && break; sleep 0.05; done
expect_eq "$(stat connections_active)" 1 "connections_active after the idle connection closed"
