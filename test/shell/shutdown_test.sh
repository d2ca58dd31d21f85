#!/usr/bin/env bash
# SIGTERM: shmkvd stops accepting, closes idle connections after the requests
# already read are answered, and exits 0 with no worker left behind. Without
# an idle timeout, an idle connection's blocking read would be restarted
# after the signal: what ends it is the stop handler (daemon/blocking_read).
. "$(dirname "$0")/lib.sh"

# expect_clean_exit WHAT: after its SIGTERM the daemon exits within 5 s,
# with status 0, and leaves no worker behind (a worker, forked without exec,
# has the daemon's command line, and so the test's --name).
expect_clean_exit() {
  local i rc=0 left
  for i in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$DAEMON_PID" 2>/dev/null && fail "shmkvd still running 5 s after SIGTERM $1"
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=
  expect_eq "$rc" 0 "exit status after SIGTERM $1"
  left=$(pgrep -f -- "--name $NAME( |\$)" || true)
  expect_eq "$left" "" "processes left after SIGTERM $1"
}

start_daemon --idle-timeout 0
cd "$ROOT/test/shell"
python3 - "$PORT" "$DAEMON_PID" <<'PY'
import json, os, signal, sys, time
from wire import check, closed_by_peer, connect, frame, recv_frame
port, pid = int(sys.argv[1]), int(sys.argv[2])
idle = [connect(port) for _ in range(3)]
for s in idle:  # each has a worker serving it, idle between requests
    s.sendall(frame(2, '{"func": "PUT", "params": {"obj": "s", "val": 1}}'))
    check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT before shutdown")
busy = connect(port)
busy.sendall(b"".join(frame(2, '{"func": "GET", "params": {"obj": "s"}}') for _ in range(50)))
time.sleep(0.2)  # let the worker read the batch before the signal
os.kill(pid, signal.SIGTERM)
for i in range(50):  # requests read before the signal are all answered
    check(json.loads(recv_frame(busy)[1])["response"]["response"]["val"] == 1, f"pipelined reply {i}")
for s in idle + [busy]:
    s.settimeout(5)
    check(closed_by_peer(s), "a connection stayed open after SIGTERM")
PY
expect_clean_exit "with idle connections"
grep -q 'stopping: [0-9]* workers to finish' "$DAEMON_LOG" || fail "no stopping line"

# SIGTERM while a client is mid-request: the request is answered, then the
# daemon exits 0 and leaves no children.
start_daemon
python3 - "$PORT" "$DAEMON_PID" <<'PY'
import json, os, signal, struct, sys, time
from wire import check, closed_by_peer, connect, recv_frame
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = connect(port)
body = json.dumps({"func": "PUT", "params": {"obj": "mid", "val": "answered"}}).encode()
s.sendall(struct.pack("<ii", 2, len(body)) + body[:10])
time.sleep(0.2)  # the worker has read the first part
os.kill(pid, signal.SIGTERM)
time.sleep(0.2)
s.sendall(body[10:])
reply = json.loads(recv_frame(s)[1])
check(reply["status"] == "OK" and reply["response"]["func"] == "PUT", f"mid-request reply {reply}")
check(closed_by_peer(s), "connection open after the request in hand was answered")
PY
expect_clean_exit "mid-request"
# The PUT answered during shutdown is in the store.
start_daemon
expect_eq "$("$SHMKV" -p "$PORT" get mid)" '"answered"' "the PUT answered during shutdown"

stop_daemon

# RESP connections wait for their next command in a blocking read, which the
# stop ends (daemon/blocking_read; with no idle timeout the read would
# otherwise be restarted after the signal): SIGTERM closes idle ones at once,
# well before --shutdown-timeout would kill their workers, and a command
# begun before the signal is still answered.
RESP=1 start_daemon --shutdown-timeout 30 --idle-timeout 0
python3 - "$RESP_PORT" "$DAEMON_PID" <<'PY'
import os, signal, sys, time
from resp_wire import command, connect
from wire import check, closed_by_peer
port, pid = int(sys.argv[1]), int(sys.argv[2])
idle = [connect(port) for _ in range(20)]
for i, s in enumerate(idle):
    s.sendall(command(b"SET", b"r%d" % i, b"v"))
    check(s.recv(100) == b"+OK\r\n", "SET before shutdown")
mid = connect(port)
request = command(b"SET", b"mid", b"answered")
mid.sendall(request[:12])
time.sleep(0.2)  # the worker has read the first part
began = time.monotonic()
os.kill(pid, signal.SIGTERM)
for s in idle:
    check(closed_by_peer(s), "an idle RESP connection stayed open after SIGTERM")
took = time.monotonic() - began
check(took < 3, f"idle RESP connections closed {took:.1f} s after SIGTERM")
mid.sendall(request[12:])
check(mid.recv(100) == b"+OK\r\n", "the command begun before SIGTERM")
check(closed_by_peer(mid), "connection open after the command in hand was answered")
PY
expect_clean_exit "with RESP connections"
grep -q 'killing' "$DAEMON_LOG" && fail "workers killed at shutdown: $(grep killing "$DAEMON_LOG")"
true
