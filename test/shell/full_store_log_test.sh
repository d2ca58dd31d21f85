#!/usr/bin/env bash
# A full store refusing writes as fast as a client can send them does not
# flood the log: each worker logs "store is full" at most 10 times per 10 s
# for each protocol, and the refusals still reach the client, every one.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --memory 1M

cd "$ROOT/test/shell"
python3 - "$PORT" "$RESP_PORT" <<'PY' || fail "refused writes"
import json, sys
from resp_wire import command, connect as resp_connect
from wire import check, connect, frame, recv_frame

port, resp_port = int(sys.argv[1]), int(sys.argv[2])
OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"

def read_replies(s, n):
    """n RESP simple or error replies."""
    buf, out = b"", []
    while len(out) < n:
        chunk = s.recv(65536)
        check(chunk, "connection closed")
        buf += chunk
        *lines, buf = buf.split(b"\r\n")
        out += [l + b"\r\n" for l in lines]
    return out

with resp_connect(resp_port) as s:
    s.settimeout(30)
    stored = 0
    while True:  # fill it, 500 keys at a time, until a SET is refused
        s.sendall(b"".join(command(b"SET", b"fill%07d" % (stored + i), b"v" * 40) for i in range(500)))
        replies = read_replies(s, 500)
        stored += replies.count(b"+OK\r\n")
        if OOM in replies:
            break
    s.sendall(b"".join(command(b"SET", b"more%07d" % i, b"v" * 40) for i in range(5000)))
    check(read_replies(s, 5000) == [OOM] * 5000, "5000 SETs in a full store not all refused")
with connect(port) as s:
    s.sendall(b"".join(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"json{i}", "val": "v" * 40}}))
                       for i in range(5000)))
    for i in range(5000):
        reply = json.loads(recv_frame(s)[1])
        check(reply == {"status": "ERROR", "error": "store is full"}, f"PUT json{i}: {reply}")
print(f"{stored} keys stored; 5000 SETs and 5000 PUTs refused")
PY
resp_lines=$(grep -c "warning: RESP: store is full" "$DAEMON_LOG" || true)
json_lines=$(grep -c "warning: PUT .*: store is full" "$DAEMON_LOG" || true)
echo "log lines for 10000 refused writes: $resp_lines RESP, $json_lines JSON"
[ "$resp_lines" -ge 1 ] && [ "$resp_lines" -le 20 ] || fail "$resp_lines RESP 'store is full' lines"
[ "$json_lines" -ge 1 ] && [ "$json_lines" -le 20 ] || fail "$json_lines JSON 'store is full' lines"
echo "ok full_store_log"
