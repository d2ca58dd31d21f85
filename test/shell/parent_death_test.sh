#!/usr/bin/env bash
# The parent SIGKILLed mid-load: its workers are gone within 2 s, and a new
# shmkvd on the same store serves every acknowledged key. Killed together
# with a worker that held the store lock: the new shmkvd finds the lock
# unusable at start-up and rebuilds the store before serving.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"

# workers_gone PID: waits (bounded, 2 s) until no process has PID as parent
# any more, and fails otherwise.
workers_gone() {
  local i
  for i in $(seq 40); do
    [ -z "$(pgrep -P "$1" || true)" ] && [ -z "$(pgrep -f -- "--name $NAME" | grep -vx "$DAEMON_PID" || true)" ] && return 0
    sleep 0.05
  done
  fail "workers of $1 still running 2 s after it was killed: $(pgrep -f -- "--name $NAME" | tr '\n' ' ')"
}

start_daemon --debug-commands
python3 - "$PORT" "$DAEMON_PID" "$WORK/acked" <<'PY'
import json, os, signal, sys, threading, time
from wire import check, connect, frame, recv_frame
port, parent, acked_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
acked = open(acked_path, "w", buffering=1)
def client(n):
    i = 0
    try:
        with connect(port) as s:
            while True:
                key = f"load{n}-{i}"
                s.sendall(frame(2, json.dumps({"func": "PUT", "params": {"obj": key, "val": i}})))
                if json.loads(recv_frame(s)[1])["status"] == "OK":
                    acked.write(f"{key} {i}\n")
                i += 1
    except (OSError, EOFError, ValueError):
        return  # the daemon went away mid-load, as intended
threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
time.sleep(1)
os.kill(parent, signal.SIGKILL)
for t in threads:
    t.join(timeout=10)
PY
parent=$DAEMON_PID
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
workers_gone "$parent"
acked=$(wc -l < "$WORK/acked")
[ "$acked" -gt 100 ] || fail "only $acked PUTs were acknowledged before the kill"

start_daemon --debug-commands
python3 - "$PORT" "$WORK/acked" <<'PY'
import json, sys
from wire import check, connect, frame, recv_frame
port = int(sys.argv[1])
with connect(port) as s, open(sys.argv[2]) as acked:
    n = 0
    for line in acked:
        key, val = line.split()
        s.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": key}})))
        got = json.loads(recv_frame(s)[1])["response"]["response"]["val"]
        check(got == int(val), f"{key}: acknowledged {val}, read {got!r} after the restart")
        n += 1
print(f"{n} acknowledged PUTs served by the restarted daemon")
PY

# Now kill the parent and a worker that holds the store lock, together.
python3 - "$PORT" "$DAEMON_PID" <<'PY'
import os, signal, sys, time
from wire import connect, frame, worker_pid
port, parent = int(sys.argv[1]), int(sys.argv[2])
s = connect(port)
worker = worker_pid(s)
s.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 30000}}'))
time.sleep(0.3)
os.kill(parent, signal.SIGKILL)
os.kill(worker, signal.SIGKILL)
PY
parent=$DAEMON_PID
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
workers_gone "$parent"
start_daemon
grep -q "a process died holding its lock: rebuilding it before serving" "$DAEMON_LOG" ||
  fail "start-up did not notice the unusable lock"
grep -q "store $NAME rebuilt: $(wc -l < "$WORK/acked") keys\|store $NAME rebuilt: [0-9]* keys" "$DAEMON_LOG" || fail "no rebuild logged"
first=$(head -n 1 "$WORK/acked")
expect_eq "$("$SHMKV" -p "$PORT" get "${first% *}")" "${first#* }" "a key after the start-up rebuild"
