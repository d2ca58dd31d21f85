#!/usr/bin/env bash
# RESP under the daemon's limits: --max-message bounds one argument (a bulk
# string: one byte more is a protocol error and a close, nothing stored),
# --idle-timeout closes an idle RESP connection, --request-timeout cuts off a
# command that trickles in, and the STATS counters count RESP commands.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --max-message 1K --idle-timeout 1

cd "$ROOT/test/shell"
python3 - "$RESP_PORT" <<'PY' || fail "limits"
import sys, time
from resp_wire import command, connect, exchange, read_all
port = int(sys.argv[1])

s = connect(port)
s.sendall(command(b"SET", b"big", b"x" * 1024) + command(b"STRLEN", b"big") + command(b"QUIT"))
got = read_all(s)
assert got == b"+OK\r\n:1024\r\n+OK\r\n", got

got = exchange(port, command(b"SET", b"big", b"y" * 1025))
assert got == b"-ERR Protocol error: invalid bulk length\r\n", got

s = connect(port)
s.sendall(command(b"STRLEN", b"big") + command(b"GET", b"big")[:10])
t = time.monotonic()
got = read_all(s)  # the idle timeout closes it, a command begun or not
waited = time.monotonic() - t
assert got == b":1024\r\n", got
assert 0.5 < waited < 4, waited
PY
grep -q "closing RESP connection from .*: ERR Protocol error: invalid bulk length" "$DAEMON_LOG" ||
  fail "the protocol error was not logged"
requests=$("$SHMKV" -p "$PORT" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests_total"])')
# 4 RESP commands (the bad SET is not one, nor the GET begun), wait_ready's GET and this STATS.
expect_eq "$requests" 6 "requests_total"

# A command must arrive whole within --request-timeout of its first byte
# (shmkvd(8), Slow clients): one sent a byte at a time gets an error and a
# close once that has passed, though bytes keep arriving well within the
# idle timeout; one sent in a few pieces in time is answered.
stop_daemon
RESP=1 start_daemon --request-timeout 1 --idle-timeout 30
python3 - "$RESP_PORT" <<'PY' || fail "request timeout"
import select, sys, time
from resp_wire import command, connect, exchange, read_all
port = int(sys.argv[1])

request = command(b"SET", b"slow", b"value")
s = connect(port)
began = time.monotonic()
for i in range(len(request) - 1):  # never the last byte
    s.sendall(request[i:i + 1])
    if select.select([s], [], [], 0.1)[0]:
        break
got = read_all(s)
took = time.monotonic() - began
assert got == b"-ERR command not complete within 1 s\r\n", got
assert 0.9 < took < 3, took

s = connect(port)
pieces = (request[:9], request[9:20], request[20:])
for piece in pieces:
    s.sendall(piece)
    time.sleep(0.2)
s.sendall(command(b"GET", b"slow") + command(b"QUIT"))
got = read_all(s)
assert got == b"+OK\r\n$5\r\nvalue\r\n+OK\r\n", got
PY
grep -q "closing RESP connection from .*: command not complete within 1 s" "$DAEMON_LOG" ||
  fail "the cut-off command was not logged"
echo "ok resp_limits"
