#!/usr/bin/env bash
# How shmkv finds and reaches the server: -h, -p, -s, -t, their SHMKV_*
# variables, IPv6, and the errors when nothing answers in time.
. "$(dirname "$0")/lib.sh"
sock=$WORK/shmkvd.sock
start_daemon --socket "$sock"
"$SHMKV" -p "$PORT" put k '"v"'
unset SHMKV_HOST SHMKV_PORT SHMKV_SOCKET

# Nothing listens on a fresh free port: exit 3 at once, naming host and port.
dead=$(free_port)
start=$(date +%s%N)
run_cli -p "$dead" -t 2 get k
expect_eq "$RC:$OUT" "3:" "unreachable server"
expect_eq "$ERR" "shmkv: connect 127.0.0.1:$dead: Connection refused (is shmkvd running there? choose it with -h and -p, or -s)" \
  "unreachable server message"
(( ($(date +%s%N) - start) / 1000000 < 2000 )) || fail "a refused connection took longer than the timeout"

# A server that takes the request and never answers: exit 3 after -t.
start_helper "$WORK/silent.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/silent.ready" silent
silent=$(cat "$WORK/silent.ready")
start=$(date +%s%N)
run_cli -p "$silent" -t 0.3 get k
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "$RC:$OUT" "3:" "silent server"
expect_eq "$ERR" "shmkv: no reply from 127.0.0.1:$silent within 0.3 s (is the server overloaded or stopped? wait longer with -t)" \
  "silent server message"
(( elapsed >= 300 && elapsed < 2000 )) || fail "the 0.3 s timeout took $elapsed ms"

# The environment names the server; options override it.
SHMKV_PORT=$PORT run_cli get k
expect_eq "$RC:$OUT" '0:"v"' "SHMKV_PORT"
SHMKV_PORT=$dead run_cli -p "$PORT" get k
expect_eq "$RC:$OUT" '0:"v"' "-p overrides SHMKV_PORT"
SHMKV_PORT=http run_cli get k
expect_eq "$RC:$ERR" "2:shmkv: SHMKV_PORT must be a port from 1 to 65535, not 'http' (see 'shmkv --help')" \
  "bad SHMKV_PORT"
SHMKV_HOST=127.0.0.2 run_cli -p "$PORT" get k
[[ $RC == 3 && $ERR == *"connect 127.0.0.2:$PORT: Connection refused"* ]] || fail "SHMKV_HOST: $RC $ERR"
SHMKV_HOST=127.0.0.2 run_cli -h 127.0.0.1 -p "$PORT" get k
expect_eq "$RC:$OUT" '0:"v"' "-h overrides SHMKV_HOST"
SHMKV_HOST=localhost SHMKV_PORT=$PORT run_cli get k
expect_eq "$RC:$OUT" '0:"v"' "a host name, tried at each of its addresses"

# -s: the daemon's UNIX socket.
run_cli -s "$sock" put viasocket '[1, 2]'
expect_eq "$RC:$OUT$ERR" "0:" "put over a UNIX socket"
run_cli -p "$PORT" get viasocket
expect_eq "$OUT" "[1, 2]" "what went over the socket is in the store"
run_cli --socket "$sock" get k
expect_eq "$RC:$OUT" '0:"v"' "get over a UNIX socket"
SHMKV_SOCKET=$sock run_cli get k
expect_eq "$RC:$OUT" '0:"v"' "SHMKV_SOCKET"
SHMKV_SOCKET=$WORK/missing.sock run_cli -p "$PORT" get k
expect_eq "$RC:$OUT" '0:"v"' "-p overrides SHMKV_SOCKET"
SHMKV_SOCKET=$sock SHMKV_PORT=$dead run_cli get k
expect_eq "$RC:$OUT" '0:"v"' "SHMKV_SOCKET outranks SHMKV_PORT"
SHMKV_PORT=$PORT run_cli -s "$WORK/missing.sock" get k
expect_eq "$RC:$ERR" "3:shmkv: connect $WORK/missing.sock: No such file or directory (is shmkvd running there? choose it with -h and -p, or -s)" \
  "-s outranks SHMKV_PORT, and a missing socket is named"

# IPv6: a relay on ::1, and the address in brackets in messages.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  start_helper "$WORK/relay6.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/relay6.ready" relay6 "$PORT"
  run_cli -h ::1 -p "$(cat "$WORK/relay6.ready")" get k
  expect_eq "$RC:$OUT" '0:"v"' "get over IPv6"
  run_cli -h ::1 -p "$dead" get k
  [[ $RC == 3 && $ERR == *"connect [::1]:$dead:"* ]] || fail "IPv6 unreachable message: $ERR"
else
  echo "skipped the IPv6 checks: this host has no ::1"
fi
