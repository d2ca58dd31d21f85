"""A worker that dies holding the store lock (SIGKILLed during DEBUG
hold_lock_ms, or aborting in the store with DEBUG crash): within 5 s the
daemon answers again, every acknowledged key reads back its value, and STATS
counts the recovery."""

import json
import os
import signal
import sys
import time

from wire import call, check, connect, frame, get, recv_frame, worker_pid

port = int(sys.argv[1])


def stats():
    return call(port, {"func": "STATS", "params": {}})["response"]["response"]


def put_all(tag, n):
    with connect(port) as s:
        s.sendall(b"".join(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"{tag}{i}", "val": [tag, i]}}))
                           for i in range(n)))
        for _ in range(n):
            check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT")


def wait_serving(since):
    """Retries a GET until it succeeds; returns how long the store was out."""
    while True:
        try:
            reply = call(port, {"func": "GET", "params": {"obj": "a0"}})
            if reply["status"] == "OK":
                return time.time() - since
        except (OSError, EOFError):
            pass
        check(time.time() - since < 5, "the daemon did not answer within 5 s of the crash")
        time.sleep(0.02)


def check_all(expected):
    with connect(port) as s:
        for tag, n in expected:
            for i in range(n):
                val = get(s, f"{tag}{i}")
                check(val == [tag, i], f"{tag}{i} read back as {val!r} after recovery")


put_all("a", 300)

# 1. SIGKILL while holding the lock.
holder = connect(port)
victim = worker_pid(holder)
holder.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 20000}}'))
time.sleep(0.3)
os.kill(victim, signal.SIGKILL)
killed_at = time.time()
out = wait_serving(killed_at)
check_all([("a", 300)])
s = stats()
check(s["recoveries"] == 1 and s["store_status"] == "ok", f"after the first recovery: {s}")
check(s["keys"] == 300, f"keys after recovery: {s['keys']}")
print(f"SIGKILL in the store: answering again after {out:.2f} s; {s['keys']} keys intact")
holder.close()

# 2. Abort inside the store.
put_all("b", 100)
crasher = connect(port)
crasher.sendall(frame(2, '{"func": "DEBUG", "params": {"crash": "in_store"}}'))
crashed_at = time.time()
try:
    crasher.settimeout(5)
    check(crasher.recv(1) == b"", "the crashing request was answered")
except ConnectionResetError:
    pass
out = wait_serving(crashed_at)
check_all([("a", 300), ("b", 100)])
s = stats()
check(s["recoveries"] == 2 and s["last_recovery"] > 0, f"after the second recovery: {s}")
print(f"abort in the store: answering again after {out:.2f} s; {s['keys']} keys intact")
print(json.dumps({"victim": victim}))
