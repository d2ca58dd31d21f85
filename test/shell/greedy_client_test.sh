#!/usr/bin/env bash
# Back-pressure: a client that pipelines 2,000 GETs of 1 MB values in one
# write and reads no reply makes its worker stop reading, not buffer 2 GB of
# replies. The worker's peak memory (VmHWM in /proc) stays bounded; then
# every reply arrives, in order. The same for 200 GETs of a value that JSON
# escapes to six times its size.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"
start_daemon --memory 16M
python3 - "$PORT" <<'PY'
import json, socket, sys, time
from wire import call, check, connect, frame, recv_exactly, status_kb, worker_pid

port = int(sys.argv[1])
SIZE = 1_000_000
keys = [f"big{i}" for i in range(5)]
for i, key in enumerate(keys):  # five values of 1 MB that differ
    reply = call(port, {"func": "PUT", "params": {"obj": key, "val": chr(ord("a") + i) * SIZE}})
    check(reply["status"] == "OK", f"PUT {key}: {reply}")

COUNT = 2000
with connect(port) as s:
    pid = worker_pid(s)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    pipeline = b"".join(frame(2, json.dumps({"func": "GET", "params": {"obj": keys[i % 5]}}))
                        for i in range(COUNT))
    s.sendall(pipeline)
    time.sleep(3)  # the worker answers what it may, then waits for us to read
    rss, peak = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    print(f"{len(pipeline)} bytes of GETs unread: worker {pid} VmRSS {rss // 1024} MB, VmHWM {peak // 1024} MB")
    check(peak < 64 * 1024, f"the worker grew to {peak // 1024} MB for a client that does not read")

    s.settimeout(30)
    for i in range(COUNT):
        version, length = int.from_bytes(recv_exactly(s, 4), "little"), int.from_bytes(recv_exactly(s, 4), "little")
        body = recv_exactly(s, length)
        key = keys[i % 5]
        expected = ('{"status": "OK", "response": {"func": "GET", "response": {"obj": "%s", "val": "%s"}}}'
                    % (key, chr(ord("a") + i % 5) * SIZE)).encode()
        check(version == 2 and body == expected, f"reply {i} is not the GET of {key}: {body[:80]!r}")
    s.settimeout(1)
    try:
        extra = s.recv(1)
    except socket.timeout:
        extra = b""
    check(extra == b"", "more replies than requests")
    print(f"all {COUNT} replies arrived in order; worker VmHWM {status_kb(pid, 'VmHWM') // 1024} MB")
PY

# The same for values that JSON writes at six bytes a byte: a value of
# control bytes written over RESP is a 6 MB JSON string, and a batch of GETs
# of it is sent in parts rather than built whole. A daemon of its own: a
# worker's peak memory from the first part would hide this one's.
stop_daemon
RESP=1 start_daemon --memory 16M
python3 - "$PORT" "$RESP_PORT" <<'PY'
import json, socket, sys, time
from resp_wire import command, connect as resp_connect
from wire import check, connect, frame, recv_exactly, status_kb, worker_pid

port, resp_port = int(sys.argv[1]), int(sys.argv[2])
SIZE = 1_000_000
with resp_connect(resp_port) as r:
    r.sendall(command(b"SET", b"ctl", b"\x01" * SIZE))
    check(r.recv(5) == b"+OK\r\n", "SET ctl")

COUNT = 200
expected = ('{"status": "OK", "response": {"func": "GET", "response": {"obj": "ctl", "val": "%s"}}}'
            % ("\\u0001" * SIZE)).encode()
with connect(port) as s:
    pid = worker_pid(s)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": "ctl"}})) * COUNT)
    time.sleep(3)
    peak = status_kb(pid, "VmHWM")
    print(f"{COUNT} GETs of a 6 MB JSON string unread: worker {pid} VmHWM {peak // 1024} MB")
    check(peak < 48 * 1024, f"the worker grew to {peak // 1024} MB for a client that does not read")
    s.settimeout(30)
    for i in range(COUNT):
        version, length = int.from_bytes(recv_exactly(s, 4), "little"), int.from_bytes(recv_exactly(s, 4), "little")
        check(version == 2 and recv_exactly(s, length) == expected, f"reply {i} is not the GET of ctl")
    print(f"all {COUNT} replies arrived in order")
PY
