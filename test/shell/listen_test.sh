#!/usr/bin/env bash
# Listening: a UNIX socket with the mode asked for, removed at exit; TCP off
# with --port 0; IPv6 loopback; a live socket file is not taken over.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"
sock=$WORK/shmkv.sock

# UNIX socket only.
"$SHMKVD" --port 0 --socket "$sock" --socket-mode 0600 --name "$NAME" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!
for i in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "no socket at $sock"
expect_eq "$(stat -c %a "$sock")" 600 "socket mode"
python3 - "$sock" <<'PY'
import json, socket, struct, sys
from wire import check, frame, recv_frame
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(frame(2, '{"func": "PUT", "params": {"obj": "unix", "val": "over a UNIX socket"}}'))
check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT over the UNIX socket")
s.sendall(frame(2, '{"func": "GET", "params": {"obj": "unix"}}'))
check(json.loads(recv_frame(s)[1])["response"]["response"]["val"] == "over a UNIX socket", "GET")
print("served over", sys.argv[1])
PY
grep -q "listening on $sock" "$DAEMON_LOG" || fail "UNIX socket not logged"
if grep -q 'listening on 127.0.0.1' "$DAEMON_LOG"; then fail "--port 0 still listened on TCP"; fi

# A second daemon may not take over a live socket (nor the store).
rc=0
"$SHMKVD" --port 0 --socket "$sock" --name "$NAME-other" 2>"$WORK/second.log" || rc=$?
expect_eq "$rc" 1 "second daemon on a live socket"
grep -q "$sock is in use by a running server" "$WORK/second.log" || fail "unclear: $(cat "$WORK/second.log")"
rm -f "/dev/shm/$NAME-other"

stop_daemon
expect_eq "$DAEMON_STATUS" 0 "exit status"
[ -e "$sock" ] && fail "socket file left after exit"

# A stale socket file (its daemon gone) is replaced.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
"$SHMKVD" --port 0 --socket "$sock" --name "$NAME" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!
for i in $(seq 200); do grep -q "listening on $sock" "$DAEMON_LOG" && [ "$(grep -c "listening on $sock" "$DAEMON_LOG")" = 2 ] && break; sleep 0.05; done
expect_eq "$(grep -c "listening on $sock" "$DAEMON_LOG")" 2 "listening after replacing a stale socket"
stop_daemon

# IPv6 loopback, with the client too.
PORT=$(free_port)
"$SHMKVD" --bind ::1 --port "$PORT" --name "$NAME" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!
for i in $(seq 200); do "$SHMKV" -h ::1 -p "$PORT" get unix >/dev/null 2>&1 && break; sleep 0.05; done
expect_eq "$("$SHMKV" -h ::1 -p "$PORT" get unix)" '"over a UNIX socket"' "GET over [::1]"
grep -q "listening on \[::1\]:$PORT" "$DAEMON_LOG" || fail "IPv6 listener not logged"
