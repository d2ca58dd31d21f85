"""Worker reuse (issue 5), checked through STATS worker_pid: which process
served each connection."""

import json
import os
import signal
import subprocess
import sys
import time

from wire import call, check, connect, frame, recv_frame
from wire import worker_pid as connection_worker_pid

port, daemon_pid, case = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def worker_pid(version=1):
    return call(port, {"func": "STATS", "params": {}}, version)["response"]["response"]["worker_pid"]


def children():
    out = subprocess.run(["ps", "-o", "pid=,stat=", "--ppid", str(daemon_pid)], capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()]


if case == "reuse":  # --spare-workers 4
    pids = [worker_pid(1 + i % 2) for i in range(50)]
    check(len(set(pids)) <= 5, f"50 sequential connections served by {len(set(pids))} workers")
    print(f"50 sequential connections served by {len(set(pids))} distinct workers")

elif case == "fresh":  # --spare-workers 0
    pids = [worker_pid() for _ in range(30)]
    check(len(set(pids)) == 30, f"30 connections served by only {len(set(pids))} distinct workers")
    print("every connection got a new worker")

elif case == "kill-idle":  # --spare-workers 4
    for _ in range(10):
        worker_pid()
    for round in range(6):
        idle = [int(pid) for pid, stat in children()]
        check(idle, "no idle worker to kill")
        victim = idle[0]
        os.kill(victim, signal.SIGKILL)
        # Every later connection is served, whether or not the victim was reaped yet.
        for i in range(20):
            pid = worker_pid(1 + i % 2)
            check(pid != victim, "a killed worker answered")
    print("connections after SIGKILL of idle workers all served")

elif case == "concurrent":  # --spare-workers 2
    conns = [connect(port) for _ in range(40)]
    for i, s in enumerate(conns):
        s.sendall(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"c{i}", "val": i}})))
    for s in conns:
        check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT on a concurrent connection")
    pids = set()
    for i, s in enumerate(conns):  # still open, each with its own worker
        pids.add(connection_worker_pid(s))
    check(len(pids) == 40, f"40 open connections served by {len(pids)} workers")
    for s in conns:
        s.close()
    print("40 concurrent persistent connections served by 40 workers")

elif case == "silent":  # --spare-workers 2: TCP accept is deferred until the request is in
    # A client that connects and says nothing past the deferral (a second)
    # is still accepted and answered once it speaks, on either version.
    quiet = [connect(port) for _ in range(3)]
    time.sleep(1.5)
    for version, s in zip((1, 2, 1), quiet):
        s.sendall(frame(version, json.dumps({"func": "PUT", "params": {"obj": "quiet", "val": version}})))
        s.settimeout(10)
        check(json.loads(recv_frame(s)[1])["status"] == "OK", f"PUT after 1.5 s of silence, version {version}")
        s.close()
    print("connections silent past the accept deferral are served")

elif case == "stop-idle":  # --spare-workers 4
    # An idle worker stopped (SIGSTOP) holds up no connection: the parent
    # kills it (it may be the one waiting on the listeners, or the follower
    # a hand-off wakes), and the pool serves on. Every idle worker is
    # stopped at once, so nothing but the parent can serve.
    for _ in range(10):
        worker_pid()
    stopped = [int(pid) for pid, stat in children()]
    check(stopped, "no idle worker to stop")
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    for i in range(20):
        pid = worker_pid(1 + i % 2)  # wire.TIMEOUT: 10 s each
        check(pid not in stopped, "a stopped worker answered")
    deadline = time.monotonic() + 10
    while any(int(pid) in stopped for pid, stat in children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid, stat in children() if int(pid) in stopped]
    check(not left, f"stopped idle workers {left} still there")
    print(f"{len(stopped)} stopped idle workers were killed; 20 connections served")

elif case in ("silent-holds-nobody", "retire-passes-lead"):
    # The worker that takes a connection stops waiting on the listeners and
    # wakes nobody (shmkvd(8), Process model); before it sleeps on a client,
    # or exits, it wakes another idle worker to wait there. Without that
    # wake-up, the next connection waits for an idle worker's own wake-up,
    # up to a second (the expiry sweep's), each time: eight rounds took 2 s
    # in a run without it, and 0.01 s with it.
    rounds = 8
    for _ in range(10):
        worker_pid()
    quiet = []
    start = time.monotonic()
    for i in range(rounds):
        if case == "silent-holds-nobody":  # --spare-workers 4
            s = connect(port)
            s.sendall(frame(2, "")[:4])  # half a header: accepted, then its worker waits
            quiet.append(s)
            time.sleep(0.05)  # for a worker to take it and sleep on it
            worker_pid(1 + i % 2)
        else:  # --spare-workers 4 --worker-max-connections 2: a worker retires every other connection
            for _ in range(2):
                worker_pid(1 + i % 2)
    took = time.monotonic() - start - (0.05 * rounds if case == "silent-holds-nobody" else 0)
    for s in quiet:
        s.close()
    check(took < 0.8, f"{rounds} rounds took {took:.2f} s: a connection waited for an idle worker's own wake-up")
    print(f"{rounds} rounds in {took:.3f} s")
