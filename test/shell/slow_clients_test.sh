#!/usr/bin/env bash
# --request-timeout: clients that drip a request a byte at a time cannot hold
# the workers. Eight of them take every worker of --max-children 8; each is
# answered "request not complete within 2 s" and closed about 2 s after its
# first byte, although every byte it sends would restart an idle timer, and a
# legitimate client waiting for a worker is then served.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"
start_daemon --max-children 8 --request-timeout 2 --idle-timeout 30
python3 - "$PORT" <<'PY'
import json, select, socket, sys, threading, time
from wire import check, closed_by_peer, connect, frame, recv_frame

port = int(sys.argv[1])
request = frame(2, '{"func": "GET", "params": {"obj": "slow"}}')

# The eight slow clients: the first byte of a request each, then one byte
# every 0.4 s, for up to 12 s (three times the idle timeout's restarts would
# allow, were it the only limit).
slow = []
for _ in range(8):
    s = connect(port)
    s.sendall(request[:1])
    slow.append({"sock": s, "sent": 1, "began": time.time(), "answer": None})
time.sleep(0.5)  # let the workers take them

served = {}
def legitimate():
    began = time.time()
    try:
        with connect(port) as s:
            s.settimeout(10)
            s.sendall(request)
            _, body = recv_frame(s)
            served["reply"] = json.loads(body)
    except (OSError, EOFError) as e:
        served["error"] = repr(e)
    served["after"] = time.time() - began
waiter = threading.Thread(target=legitimate)
waiter.start()

deadline = time.time() + 12
while time.time() < deadline and any(c["answer"] is None for c in slow):
    for c in slow:
        if c["answer"] is not None:
            continue
        readable, _, _ = select.select([c["sock"]], [], [], 0)
        if readable:
            c["sock"].settimeout(3)
            _, body = recv_frame(c["sock"])
            c["answer"] = json.loads(body)
            c["after"] = time.time() - c["began"]
            c["closed"] = closed_by_peer(c["sock"])
        elif c["sent"] < len(request) - 1:  # never the last byte
            try:
                c["sock"].sendall(request[c["sent"]:c["sent"] + 1])
                c["sent"] += 1
            except OSError:
                pass
    time.sleep(0.4)
waiter.join(15)

for i, c in enumerate(slow):
    check(c["answer"] is not None, f"slow client {i} still held its worker after 12 s")
    check(c["answer"] == {"status": "ERROR", "error": "request not complete within 2 s"},
          f"slow client {i} got {c['answer']}")
    check(1.5 <= c["after"] <= 4, f"slow client {i} was cut off after {c['after']:.1f} s, not about 2 s")
    check(c["closed"], f"slow client {i}: connection still open after the error")
check("reply" in served, f"the legitimate client was not served: {served.get('error')}")
check(served["reply"]["status"] == "OK", f"the legitimate client got {served['reply']}")
check(served["after"] >= 0.5, f"served after {served['after']:.2f} s: the slow clients did not hold the workers")
print(f"8 slow clients cut off after {min(c['after'] for c in slow):.1f}-{max(c['after'] for c in slow):.1f} s; "
      f"the waiting client served after {served['after']:.1f} s")
PY
expect_eq "$(grep -c 'request not complete within 2 s' "$DAEMON_LOG")" 8 "cut-off connections logged"

# A request that arrives whole in pieces within the timeout is answered, and
# --request-timeout 0 lets a slow request take as long as it needs.
stop_daemon
start_daemon --request-timeout 0 --idle-timeout 5
python3 - "$PORT" <<'PY'
import json, sys, time
from wire import check, connect, frame, recv_frame
request = frame(2, '{"func": "PUT", "params": {"obj": "k", "val": 1}}')
with connect(int(sys.argv[1])) as s:
    for i in range(0, len(request), 8):  # about 3 s in all
        s.sendall(request[i:i + 8])
        time.sleep(0.4)
    _, body = recv_frame(s)
    check(json.loads(body)["status"] == "OK", f"slow whole request got {body!r}")
print("a slow request is answered with --request-timeout 0")
PY
