"""Sweeping idle workers killed at random (shmkvd(8), Expiry): 60,000 keys
with a 2 s ttl expire while SIGKILL hits the daemon's workers every 20 ms for
4 s, or until one dies inside a sweep step and the store is recovered (the
kills stop then, so as not to hit the salvage child, another child of the
daemon). Afterwards every expired key is gone, its memory back, every key
without a ttl intact, and the store served.

python3 sweep_kill.py PORT DAEMON_PID DAEMON_LOG"""

import json
import os
import random
import signal
import sys
import time

from wire import check, connect, frame, recv_frame

PORT, DAEMON, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def recovering():
    with open(LOG) as f:
        return "recovering store" in f.read()


def ask(s, body):
    s.sendall(frame(2, json.dumps(body)))
    return json.loads(recv_frame(s)[1])


def stats():
    last = None
    for _ in range(100):  # the store may be recovering from a kill: retry
        try:
            with connect(PORT) as s:
                r = ask(s, {"func": "STATS", "params": {}})["response"]["response"]
                if r["store_status"] == "ok":
                    return r
                last = f"store_status {r['store_status']!r}"
        except (OSError, EOFError) as e:
            last = repr(e)
        time.sleep(0.1)
    raise AssertionError(f"the store was not served again within 10 s; last: {last}")


def put_all(bodies):
    with connect(PORT) as s:
        for i in range(0, len(bodies), 1000):
            s.sendall(b"".join(frame(2, json.dumps(b)) for b in bodies[i:i + 1000]))
            for _ in bodies[i:i + 1000]:
                check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT failed")


def workers():
    with open(f"/proc/{DAEMON}/task/{DAEMON}/children") as f:
        return [int(p) for p in f.read().split()]


base = stats()
put_all([{"func": "PUT", "params": {"obj": f"keep:{i}", "val": i}} for i in range(1000)])
put_all([{"func": "PUT", "params": {"obj": f"lease:{i:06}", "val": [i, "x" * 20], "ttl": 2}} for i in range(60000)])
full = stats()
# On a slow machine some may have expired, and gone, already.
check(full["keys_with_ttl"] + full["expired_keys_total"] == 60000, f"after the PUTs: {full}")

killed = 0
deadline = time.monotonic() + 4
while time.monotonic() < deadline and not recovering():
    pids = workers()
    if pids:
        try:
            os.kill(random.choice(pids), signal.SIGKILL)  # a worker of the daemon this test started
            killed += 1
        except ProcessLookupError:
            pass
    time.sleep(0.02)

deadline = time.monotonic() + 20
while True:
    now = stats()
    if now["keys_with_ttl"] == 0:
        break
    check(time.monotonic() < deadline, f"expired keys not removed 20 s after the kills: {now}")
    time.sleep(0.2)
check(now["keys"] == base["keys"] + 1000, f"keys left: {now}")
used = base["store_free_bytes"] - full["store_free_bytes"]
back = now["store_free_bytes"] - full["store_free_bytes"]
check(back >= used * 8 // 10, f"only {back} of {used} bytes came back")
with connect(PORT) as s:
    for i in range(1000):
        r = ask(s, {"func": "GET", "params": {"obj": f"keep:{i}"}})
        check(r["response"]["response"]["val"] == i, f"keep:{i} after the kills: {r}")
check(now["recoveries"] == (1 if recovering() else 0), f"recoveries: {now}")
print(f"sweep_kill: {killed} workers killed, {now['recoveries']} recoveries; "
      f"{now['expired_keys_total']} expired keys removed; ok")
