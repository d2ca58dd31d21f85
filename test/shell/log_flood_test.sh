#!/usr/bin/env bash
# A client that has its connections closed for broken framing as fast as it
# can open them does not flood the log (shmkvd(8), logging): 1,000 such
# connections, RESP and JSON, leave a few dozen warning lines, one of them
# counting those not logged; a byte that is not UTF-8 is logged as \xNN.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon

cd "$ROOT/test/shell"
python3 - "$PORT" "$RESP_PORT" <<'PY' || fail "bad connections"
import socket, struct, sys
from resp_wire import connect as resp_connect, read_all
from wire import check, connect

port, resp_port = int(sys.argv[1]), int(sys.argv[2])
for i in range(500):
    with resp_connect(resp_port) as s:
        s.sendall(b"*1\r\n\xff\r\n")
        check(read_all(s) == b"-ERR Protocol error: expected '$', got '\xff'\r\n", "RESP reply")
    with connect(port) as s:
        s.sendall(struct.pack("<II", 7, 2) + b"{}")
        reply = read_all(s)
        check(b"unsupported protocol version 7" in reply, f"JSON reply {reply!r}")
print("1000 connections closed for broken framing")
PY
resp_lines=$(grep -c "warning: closing RESP connection from" "$DAEMON_LOG" || true)
json_lines=$(grep -c "warning: closing connection from" "$DAEMON_LOG" || true)
echo "log lines for 500 bad RESP and 500 bad JSON connections: $resp_lines RESP, $json_lines JSON"
[ "$resp_lines" -ge 1 ] && [ "$resp_lines" -le 100 ] || fail "$resp_lines RESP warnings"
[ "$json_lines" -ge 1 ] && [ "$json_lines" -le 100 ] || fail "$json_lines JSON warnings"
grep -q "got '\\\\xff'" "$DAEMON_LOG" || fail "the byte 0xff was not logged as \\xff"
if LC_ALL=C grep -q $'\xff' "$DAEMON_LOG"; then fail "a raw byte 0xff in the log"; fi
echo "ok log_flood"
