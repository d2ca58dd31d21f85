#!/usr/bin/env bash
# 2,000 connections opened at once against --max-children 256: every one is
# answered, none refused, and the workers never exceed the limit.
. "$(dirname "$0")/lib.sh"
ulimit -n 8192
start_daemon --max-children 256 --spare-workers 16 --backlog 4096
cd "$ROOT/test/shell"
python3 - "$PORT" "$DAEMON_PID" <<'PY'
import json, selectors, socket, subprocess, sys, threading, time
from wire import check, frame
port, daemon = int(sys.argv[1]), int(sys.argv[2])
N, LIMIT = 2000, 256

most = 0
done = threading.Event()
def count_workers():
    global most
    while not done.is_set():
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(daemon)], capture_output=True, text=True).stdout
        most = max(most, len(out.split()))
        time.sleep(0.02)
watcher = threading.Thread(target=count_workers)
watcher.start()

# Open all 2,000 at once (non-blocking connects), and send one version-1 GET
# on each only when all are connected, so that up to 2,000 clients wait at
# the same time and the workers hit the limit.
sel = selectors.DefaultSelector()
socks = []
for i in range(N):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
    sel.register(s, selectors.EVENT_WRITE, i)
connected, refused = [], 0
deadline = time.time() + 60
while len(connected) + refused < N and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        sel.unregister(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            refused += 1
        else:
            connected.append(key.data)
check(refused == 0, f"{refused} connections refused")
check(len(connected) == N, f"only {len(connected)} of {N} connected in 60 s")
time.sleep(0.5)  # the workers take their first connections and wait on them
for i in connected:
    socks[i].send(frame(1, json.dumps({"func": "GET", "params": {"obj": f"k{i}"}})))
    sel.register(socks[i], selectors.EVENT_READ, i)
replies, buffers = 0, {i: b"" for i in connected}
deadline = time.time() + 90
while replies + refused < N and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        s, i = key.fileobj, key.data
        try:
            chunk = s.recv(4096)
        except ConnectionError:
            refused += 1
            sel.unregister(s)
            continue
        buffers[i] += chunk
        if not chunk:  # version 1: the server closes after its reply
            body = buffers[i][8:]
            check(json.loads(body)["response"]["response"] == {"obj": f"k{i}", "val": None}, f"reply {i}: {body!r}")
            replies += 1
            sel.unregister(s)
done.set()
watcher.join()
for s in socks:
    s.close()
check(refused == 0, f"{refused} connections refused or reset")
check(replies == N, f"only {replies} of {N} connections answered in 90 s")
check(most <= LIMIT, f"{most} workers at once, more than --max-children {LIMIT}")
print(f"{N} simultaneous connections all answered; at most {most} workers at once")
PY
