#!/usr/bin/env bash
# RESP under the daemon's limits: --max-message bounds one argument (a bulk
# string: one byte more is a protocol error and a close, nothing stored),
# --idle-timeout closes an idle RESP connection, and the STATS counters count
# RESP commands.
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
echo "ok resp_limits"
