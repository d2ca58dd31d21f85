#!/usr/bin/env bash
# Pipelined version-2 requests come back in order on one connection; a
# version-1 request is answered and the server closes the connection first.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
python3 pipelining.py "$PORT"

# A pipelined batch of GETs of a big value is answered whole, and the worker
# does not keep the batch's megabytes afterwards (60 replies of 1 MB each:
# kept, they would hold some 120 MB of the worker's own memory).
python3 - "$PORT" <<'PY'
import json, sys
from wire import check, connect, frame, recv_frame, worker_pid
big = "x" * 1_000_000
with connect(int(sys.argv[1])) as s:
    s.sendall(frame(2, json.dumps({"func": "PUT", "params": {"obj": "big", "val": big}})))
    recv_frame(s)
    s.sendall(b"".join(frame(2, json.dumps({"func": "GET", "params": {"obj": "big"}})) for _ in range(60)))
    for i in range(60):
        reply = json.loads(recv_frame(s)[1])
        check(reply["response"]["response"]["val"] == big, f"GET {i} of the batch: wrong value")
    with open(f"/proc/{worker_pid(s)}/status") as f:
        anon_kb = next(int(line.split()[1]) for line in f if line.startswith("RssAnon:"))
    check(anon_kb < 32 * 1024, f"the worker keeps {anon_kb} kB of its own after the batch")
    print(f"60 pipelined GETs of 1 MB answered; the worker keeps {anon_kb} kB")
PY
