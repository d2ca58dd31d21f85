#!/usr/bin/env bash
# Scaling out (shmkvd(8), Scaling out): twemproxy (nutcracker) in front of two
# shmkvd speaking RESP, configured as examples/nutcracker.yml with the test's
# ports. Keys written through the proxy spread over both daemons and read
# back through it, with MGET across them.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon
command -v nutcracker >/dev/null || fail "nutcracker is not installed (make deps installs it)"

# The second daemon, with a segment of its own, removed on exit like the first.
NAME_B=$NAME-b
PORT_B=$(free_port)
RESP_B=$(free_port)
PID_B=
trap 'rc=$?; set +e; [ -z "$PID_B" ] || { kill "$PID_B"; wait "$PID_B"; } 2>/dev/null; rm -f "/dev/shm/$NAME_B"; (exit $rc); cleanup' EXIT
"$SHMKVD" --bind 127.0.0.1 --port "$PORT_B" --resp-port "$RESP_B" --name "$NAME_B" 2>>"$WORK/daemon-b.log" &
PID_B=$!

PROXY=$(free_port)
sed -e "s/127.0.0.1:22121/127.0.0.1:$PROXY/" \
    -e "s/192.0.2.1:6379:1/127.0.0.1:$RESP_PORT:1/" -e "s/192.0.2.2:6379:1/127.0.0.1:$RESP_B:1/" \
    "$ROOT/examples/nutcracker.yml" >"$WORK/nutcracker.yml"
# Only loopback addresses may be left: the example's placeholders are never dialled.
! grep -v "^ *#" "$WORK/nutcracker.yml" | grep -q "192\.0\.2\." || fail "examples/nutcracker.yml changed: a placeholder address was not replaced"
nutcracker -t -c "$WORK/nutcracker.yml" >/dev/null 2>&1 || fail "nutcracker rejects examples/nutcracker.yml"
nutcracker -c "$WORK/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$WORK/nutcracker.log" \
    -p "$WORK/nutcracker.pid" &
HELPER_PIDS+=($!)
for i in $(seq 200); do
  [ "$(timeout 2 redis-cli -p "$RESP_B" ping 2>/dev/null)" = PONG ] &&
    [ "$(timeout 2 redis-cli -p "$PROXY" set probe 1 2>/dev/null)" = OK ] && break
  [ "$i" -lt 200 ] || fail "nutcracker or the second shmkvd did not answer: $(tail -n 3 "$WORK/nutcracker.log")"
  sleep 0.05
done
timeout 2 redis-cli -p "$PROXY" del probe >/dev/null

for i in $(seq 200); do echo "SET spread:$i value-$i"; done | timeout 30 redis-cli -p "$PROXY" >"$WORK/set.out"
expect_eq "$(sort -u "$WORK/set.out")" "OK" "200 SETs through the proxy"
a=$(timeout 5 redis-cli -p "$RESP_PORT" dbsize)
b=$(timeout 5 redis-cli -p "$RESP_B" dbsize)
[ "$a" -gt 20 ] && [ "$b" -gt 20 ] || fail "keys not spread over both daemons: $a and $b"
expect_eq "$((a + b))" 200 "keys on both daemons together"
for i in $(seq 200); do echo "GET spread:$i"; done | timeout 30 redis-cli -p "$PROXY" >"$WORK/get.out"
expect_eq "$(cat "$WORK/get.out")" "$(for i in $(seq 200); do echo "value-$i"; done)" "200 GETs through the proxy"
expect_eq "$(timeout 5 redis-cli -p "$PROXY" mget spread:1 spread:2 spread:3 nope | tr '\n' ,)" \
  "value-1,value-2,value-3,," "MGET across both daemons"
expect_eq "$(timeout 5 redis-cli -p "$PROXY" del spread:1 spread:2 spread:3)" 3 "DEL across both daemons"
echo "ok resp_nutcracker"
