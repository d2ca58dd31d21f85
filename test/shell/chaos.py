"""Chaos: 16 clients do mixed PUT/GET/DELETE for a while, each on keys of its
own, while another process SIGKILLs a random worker every 200 ms. At the end
every key holds its last acknowledged PUT, or is absent if its last
acknowledged operation was a DELETE; an operation cut off by a kill may or
may not have happened. The daemon never stops answering for more than 5 s."""

import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time

from wire import call, check, connect, frame, recv_frame

PORT, DAEMON, SECONDS = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
CLIENTS, KEYS = 16, 40
ABSENT = None  # a key's state after an acknowledged DELETE


def client(n, results):
    rng = random.Random(n)
    acked = {}      # key -> last acknowledged state
    maybe = {}      # key -> states of operations cut off since then
    longest_gap, last_ok = 0.0, time.time()
    sock, ops, version = None, 0, 2
    deadline = time.time() + SECONDS
    while time.time() < deadline:
        key = f"c{n}-{rng.randrange(KEYS)}"
        r = rng.random()
        if r < 0.45:
            value = [n, ops, "x" * rng.randrange(40)]
            req, state = {"func": "PUT", "params": {"obj": key, "val": value}}, value
        elif r < 0.65:
            req, state = {"func": "DELETE", "params": {"obj": key}}, ABSENT
        else:
            req, state = {"func": "GET", "params": {"obj": key}}, "read"
        ops += 1
        try:
            if sock is None:
                sock = connect(PORT)
                sock.settimeout(6)
            sock.sendall(frame(version, json.dumps(req)))
            reply = json.loads(recv_frame(sock)[1])
        except (OSError, EOFError):
            if sock:
                sock.close()
            sock = None
            if state != "read":
                maybe.setdefault(key, []).append(state)  # cut off: may or may not have happened
            continue
        if reply["status"] != "OK":  # e.g. "store unavailable" while recovering: nothing done
            continue
        now = time.time()
        longest_gap, last_ok = max(longest_gap, now - last_ok), now
        if state == "read":
            got = reply["response"]["response"]["val"]
            allowed = [acked.get(key, ABSENT)] + maybe.get(key, [])
            if got not in allowed:
                results.put(("error", f"GET {key} read {got!r}, expected one of {allowed!r}"))
                return
            # What was read is now the known state.
            acked[key], maybe[key] = got, []
        else:
            acked[key], maybe[key] = state, []
    results.put(("ok", n, acked, maybe, longest_gap, ops))


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    clients = [ctx.Process(target=client, args=(n, results)) for n in range(CLIENTS)]
    for p in clients:
        p.start()
    start = time.time()
    kills = 0
    rng = random.Random(7)
    while time.time() - start < SECONDS:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(DAEMON)], capture_output=True, text=True).stdout
        pids = [int(p) for p in out.split()]
        if pids:
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    outcomes = [results.get(timeout=60) for _ in clients]
    for p in clients:
        p.join(timeout=10)
    errors = [o[1] for o in outcomes if o[0] == "error"]
    check(not errors, "; ".join(errors))
    # Read every key back from a fresh connection, after the dust settled.
    longest = max(o[4] for o in outcomes)
    total_ops = sum(o[5] for o in outcomes)
    checked = 0
    for _, n, acked, maybe, _, _ in outcomes:
        with connect(PORT) as s:
            for k in range(KEYS):
                key = f"c{n}-{k}"
                s.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": key}})))
                got = json.loads(recv_frame(s)[1])["response"]["response"]["val"]
                allowed = [acked.get(key, ABSENT)] + maybe.get(key, [])
                check(got in allowed, f"{key} ends as {got!r}, expected one of {allowed!r}")
                checked += 1
    check(longest < 5, f"a client went {longest:.1f} s without an answer")
    stats = call(PORT, {"func": "STATS", "params": {}})["response"]["response"]
    print(f"{kills} workers killed during {total_ops} operations by {CLIENTS} clients; {checked} keys as last "
          f"acknowledged; longest wait {longest:.2f} s; {stats['recoveries']} store recoveries; "
          f"store {stats['store_status']}")
