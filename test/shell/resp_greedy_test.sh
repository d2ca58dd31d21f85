#!/usr/bin/env bash
# Amplification over RESP: one MGET naming a 1 MB key 600 times asks for
# 600 MB of reply in 2.4 KB, and a pipeline of 600 GETs of it for as much.
# The worker looks the keys up in parts and sends each part before it reads
# the next (shmkvd(8), Greedy clients): with the client reading nothing, its
# peak memory (VmHWM) stays bounded; then every reply arrives, whole and in
# order. APPEND cannot grow a value past --max-message either.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --memory 16M

cd "$ROOT/test/shell"
python3 - "$RESP_PORT" <<'PY' || fail "greedy RESP client"
import socket, sys, time
from resp_wire import command, connect
from wire import status_kb

port = int(sys.argv[1])
SIZE = 1_000_000
COUNT = 600

def recv_exactly(s, n):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(min(n - len(out), 1 << 20))
        assert chunk, f"connection closed after {len(out)} of {n} bytes"
        out += chunk
    return bytes(out)

with connect(port) as s:
    s.sendall(command(b"SET", b"big", b"v" * SIZE) + command(b"CLIENT", b"ID"))
    assert recv_exactly(s, 5) == b"+OK\r\n"
    line = b""
    while not line.endswith(b"\r\n"):
        line += s.recv(1)
    pid = int(line[1:-2]) >> 24  # a client id is its worker's pid and a count
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    bulk = b"$%d\r\n%s\r\n" % (SIZE, b"v" * SIZE)
    requests = [("MGET", command(b"MGET", *[b"big"] * COUNT), b"*%d\r\n" % COUNT),
                ("GETs", command(b"GET", b"big") * COUNT, b"")]
    for what, request, header in requests:
        s.sendall(request)
        time.sleep(3)  # the worker answers what it may, then waits for us to read
        peak = status_kb(pid, "VmHWM")
        print(f"{what}: {len(request)} bytes asking {COUNT} MB, unread: worker {pid} VmHWM {peak // 1024} MB")
        assert peak < 64 * 1024, f"the worker grew to {peak // 1024} MB for a client that does not read"
        s.settimeout(30)
        assert recv_exactly(s, len(header)) == header
        for i in range(COUNT):
            assert recv_exactly(s, len(bulk)) == bulk, f"{what}: reply {i} is not the value"
    s.settimeout(1)
    try:
        extra = s.recv(1)
    except socket.timeout:
        extra = b""
    assert extra == b"", "more replies than requests"
    print(f"all replies arrived in order; worker VmHWM {status_kb(pid, 'VmHWM') // 1024} MB")
PY

python3 - "$RESP_PORT" <<'PY' || fail "APPEND bound"
import sys
from resp_wire import command, connect, read_all
port = int(sys.argv[1])
s = connect(port)
s.sendall(command(b"SET", b"k", b"a" * 1048000) + command(b"APPEND", b"k", b"b" * 576) +
          command(b"APPEND", b"k", b"c") + command(b"STRLEN", b"k") + command(b"QUIT"))
got = read_all(s)
assert got == (b"+OK\r\n:1048576\r\n-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
               b":1048576\r\n+OK\r\n"), got
PY
echo "ok resp_greedy"
