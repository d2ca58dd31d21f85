#!/usr/bin/env bash
# A worker killed in the middle of a RESP session (shmkvd(8), Crash
# recovery): what it acknowledged stays stored, the daemon lives on, and the
# next RESP connection is served. The worker is found by CLIENT ID, whose
# high bits are the serving worker's pid.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon
cd "$ROOT/test/shell"

python3 - "$RESP_PORT" "$DAEMON_PID" <<'PY' || fail "crash"
import os, signal, sys, time
from resp_wire import command, connect, exchange, read_all
port, daemon = int(sys.argv[1]), int(sys.argv[2])

s = connect(port)
s.sendall(command(b"SET", b"kept", b"acknowledged") + command(b"CLIENT", b"ID"))
reply = b""
while reply.count(b"\r\n") < 2:
    reply += s.recv(4096)
ok, client_id = reply.split(b"\r\n")[:2]
assert ok == b"+OK", reply
worker = int(client_id[1:]) >> 24
assert worker != daemon and os.getppid() != worker, worker
with open(f"/proc/{worker}/stat") as f:
    assert int(f.read().split(")")[1].split()[1]) == daemon, "not a worker of this daemon"
os.kill(worker, signal.SIGKILL)
assert read_all(s) == b"", "the killed worker's connection did not close"

got = exchange(port, command(b"GET", b"kept") + command(b"QUIT"))
assert got == b"$12\r\nacknowledged\r\n+OK\r\n", got
PY
kill -0 "$DAEMON_PID" || fail "shmkvd died with its worker"
grep -q "killed by signal 9" "$DAEMON_LOG" || fail "the worker's death was not logged"
echo "ok resp_crash"
