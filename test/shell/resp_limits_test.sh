#!/usr/bin/env bash
# RESP under the daemon's limits: --max-message bounds one argument (a bulk
# string: one byte more is a protocol error and a close, nothing stored),
# --idle-timeout closes an idle RESP connection, and the STATS counters count
# RESP commands.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --max-message 1K --idle-timeout 1

python3 - "$RESP_PORT" <<'PY' || fail "limits"
import socket, sys, time
port = int(sys.argv[1])
def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
def read_all(s):
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d
def command(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)

s = connect()
s.sendall(command(b"SET", b"big", b"x" * 1024) + command(b"STRLEN", b"big") + command(b"QUIT"))
got = read_all(s)
assert got == b"+OK\r\n:1024\r\n+OK\r\n", got

s = connect()
s.sendall(command(b"SET", b"big", b"y" * 1025))
got = read_all(s)
assert got == b"-ERR Protocol error: invalid bulk length\r\n", got

s = connect()
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
echo "ok resp_limits"
