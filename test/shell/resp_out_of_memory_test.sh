#!/usr/bin/env bash
# A worker out of heap memory gives up the connection, not itself or the
# store (shmkvd(8), Greedy clients): the daemon runs with its address space
# limited (ulimit -v, about 98 MB), and an MGET of 900,000 keys of 60 bytes,
# a 61 MB command, needs more than that to be read.
# The client's connection closes with no reply and a warning is logged; the
# worker and the stored key survive, and the next connection is served.
. "$(dirname "$0")/lib.sh"
REAL_SHMKVD=$SHMKVD
SHMKVD=$WORK/shmkvd-limited
printf '#!/bin/sh\nulimit -v 100000\nexec "%s" "$@"\n' "$REAL_SHMKVD" >"$SHMKVD"
chmod +x "$SHMKVD"
RESP=1 start_daemon --memory 16M --spare-workers 1

cd "$ROOT/test/shell"
python3 - "$RESP_PORT" <<'PY' || fail "out of memory"
import sys
from resp_wire import command, connect, read_all
port = int(sys.argv[1])

def worker_pid(s):
    s.sendall(command(b"CLIENT", b"ID"))
    line = b""
    while not line.endswith(b"\r\n"):
        line += s.recv(1)
    return int(line[1:-2]) >> 24  # a client id is its worker's pid and a count

s = connect(port)
pid = worker_pid(s)
s.sendall(command(b"SET", b"kept", b"value"))
assert s.recv(5) == b"+OK\r\n"
n = 900_000
try:  # the worker may close before it has read it all: then a reset
    s.sendall(b"*%d\r\n$4\r\nMGET\r\n" % (n + 1) + b"$60\r\n%s\r\n" % (b"k" * 60) * n)
    got = read_all(s)
except (ConnectionResetError, BrokenPipeError):
    got = b""
assert got == b"", f"a reply to the MGET too big for the worker: {got[:40]!r}"

t = connect(port)
again = worker_pid(t)
t.sendall(command(b"GET", b"kept") + command(b"QUIT"))
got = read_all(t)
assert got == b"$5\r\nvalue\r\n+OK\r\n", got
print(f"worker {pid} ran out of memory and closed the connection; next served by {again}")
PY
grep -q "warning: closing connection from .*: out of memory" "$DAEMON_LOG" || fail "the closed connection was not logged"
if grep -E "recover|died|signal" "$DAEMON_LOG"; then fail "a worker died"; fi
echo "ok resp_out_of_memory"
