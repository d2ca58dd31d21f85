"""Chaos: 16 clients do mixed PUT/GET/DELETE for a while, each on keys of its
own, while this process, every 200 ms, SIGKILLs a random worker or SIGSTOPs
one (continuing it 0.3 to 1.5 s later); every 2 s makes a worker hold the
store lock (DEBUG hold_lock_ms) and stops it there, for --lock-timeout to
kill; and a thread SIGKILLs the salvage process (shmkvd-salvage) of a
recovery, at most once a second, so that salvages are retried. At the end
every key holds its last acknowledged PUT, or is absent if its last
acknowledged operation was a DELETE; an operation cut off by a kill may or
may not have happened. The daemon never stops answering for more than 5 s.
Needs shmkvd with --debug-commands and a short --lock-timeout."""

import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import threading
import time

from wire import call, check, connect, frame, recv_frame, worker_pid

PORT, DAEMON, SECONDS = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
CLIENTS, KEYS = 16, 40
ABSENT = None  # a key's state after an acknowledged DELETE


def settled_get(conn, key, seconds=10):
    """key's value, asking again while the daemon answers that it is
    recovering. Such a reply comes just before the worker that sent it exits
    (shmkvd(8), FAILURE MODES), so each retry opens a fresh connection; conn
    is a one-element list holding the current socket."""
    deadline = time.time() + seconds
    while True:
        try:
            if conn[0] is None:
                conn[0] = connect(PORT)
                conn[0].settimeout(6)
            conn[0].sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": key}})))
            reply = json.loads(recv_frame(conn[0])[1])
        except (OSError, EOFError) as e:
            reply = {"status": "ERROR", "error": f"connection lost: {e}"}
        if reply["status"] == "OK":
            return reply["response"]["response"]["val"]
        retryable = "recovering" in reply["error"] or "connection lost" in reply["error"]
        check(retryable and time.time() < deadline, f"GET {key} after the chaos: {reply}")
        if conn[0] is not None:
            conn[0].close()
            conn[0] = None
        time.sleep(0.05)


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


def children():
    """The daemon's children: (pid, command name)."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(DAEMON)], capture_output=True, text=True).stdout
    return [(int(line.split()[0]), line.split()[1]) for line in out.splitlines() if len(line.split()) == 2]


def signal_quietly(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def salvage_killer(stop, killed):
    """Kills a recovery's salvage process as soon as it appears, at most once
    a second, so that the retry (and its wait) is part of the chaos."""
    last = 0.0
    while not stop.is_set():
        if time.time() - last > 1.0:
            for pid, comm in children():
                if comm == "shmkvd-salvage" and signal_quietly(pid, signal.SIGKILL):
                    killed.append(pid)
                    last = time.time()
        time.sleep(0.01)


def stuck_holder():
    """A worker that takes the store lock and is stopped holding it."""
    try:
        s = connect(PORT)
        s.settimeout(2)
        pid = worker_pid(s)
        s.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 10000}}'))
        time.sleep(0.05)
        signal_quietly(pid, signal.SIGSTOP)
        s.close()
        return pid
    except (OSError, EOFError, KeyError, ValueError):
        return None  # its worker was killed, or the store is recovering


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    clients = [ctx.Process(target=client, args=(n, results)) for n in range(CLIENTS)]
    for p in clients:
        p.start()
    start = time.time()
    kills = stops = 0
    stopped = {}  # pid -> when to continue it
    stuck = set()  # workers stopped while they hold the lock
    salvage_kills = []
    stop_killer = threading.Event()
    killer = threading.Thread(target=salvage_killer, args=(stop_killer, salvage_kills))
    killer.start()
    rng = random.Random(7)
    next_holder = start + 1
    while time.time() - start < SECONDS:
        now = time.time()
        for pid, when in list(stopped.items()):
            if now >= when:
                signal_quietly(pid, signal.SIGCONT)
                del stopped[pid]
        # A stopped holder is left to --lock-timeout, and while it lives the
        # other workers, waiting in the store behind it, are left alone: a
        # death in the store would start a recovery that kills it first.
        living = children()
        holder_waits = any(pid in stuck for pid, _ in living)
        workers = [pid for pid, comm in living if comm != "shmkvd-salvage" and pid not in stopped]
        if workers and not holder_waits:
            victim = rng.choice(workers)
            if rng.random() < 0.7:
                kills += signal_quietly(victim, signal.SIGKILL)
            elif signal_quietly(victim, signal.SIGSTOP):
                stops += 1
                stopped[victim] = now + rng.uniform(0.3, 1.5)
        if now >= next_holder:
            holder = stuck_holder()
            if holder is not None:
                stuck.add(holder)
            next_holder = time.time() + 2
        time.sleep(0.2)
    for pid in stopped:
        signal_quietly(pid, signal.SIGCONT)
    holders = len(stuck)
    stop_killer.set()
    killer.join()
    outcomes = [results.get(timeout=60) for _ in clients]
    for p in clients:
        p.join(timeout=10)
    errors = [o[1] for o in outcomes if o[0] == "error"]
    check(not errors, "; ".join(errors))
    # Read every key back from a fresh connection, after the dust settled: a
    # lock holder stopped near the end is killed by --lock-timeout only now,
    # so a last recovery may still be under way.
    longest = max(o[4] for o in outcomes)
    total_ops = sum(o[5] for o in outcomes)
    checked = 0
    conn = [None]
    for _, n, acked, maybe, _, _ in outcomes:
        for k in range(KEYS):
            key = f"c{n}-{k}"
            got = settled_get(conn, key)
            allowed = [acked.get(key, ABSENT)] + maybe.get(key, [])
            check(got in allowed, f"{key} ends as {got!r}, expected one of {allowed!r}")
            checked += 1
    if conn[0] is not None:
        conn[0].close()
    check(longest < 5, f"a client went {longest:.1f} s without an answer")
    stats = call(PORT, {"func": "STATS", "params": {}})["response"]["response"]
    check(stats["store_status"] == "ok", f"store_status at the end: {stats['store_status']}")
    print(f"{kills} workers killed, {stops} stopped and continued, {holders} stopped holding the lock, "
          f"{len(salvage_kills)} salvages killed, during {total_ops} operations by {CLIENTS} clients; {checked} keys "
          f"as last acknowledged; longest wait {longest:.2f} s; {stats['recoveries']} store recoveries; "
          f"store {stats['store_status']}")
