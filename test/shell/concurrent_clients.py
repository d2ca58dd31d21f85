"""8 writer processes PUT distinct keys while 4 reader processes GET them.
A writer logs a key only after its PUT was acknowledged; a reader GETs each
logged key on a fresh connection, so every acknowledged PUT must be visible
to every later GET on any connection, whichever worker serves it."""

import multiprocessing as mp
import os
import sys
import time

from wire import call, check

PORT = int(sys.argv[1])
ACK_DIR = sys.argv[2]
WRITERS, READERS, KEYS = 8, 4, 150


def value_of(w, i):
    return {"writer": w, "i": i, "big": 10**20 + i}


def get(key, version=2):
    reply = call(PORT, {"func": "GET", "params": {"obj": key}}, version)
    return reply["response"]["response"]["val"]


def writer(w):
    with open(os.path.join(ACK_DIR, f"w{w}"), "a", buffering=1) as log:
        for i in range(KEYS):
            key = f"w{w}-{i}"
            version = 1 if i % 2 else 2  # both connection styles
            reply = call(PORT, {"func": "PUT", "params": {"obj": key, "val": value_of(w, i)}}, version)
            check(reply["status"] == "OK", f"PUT {key}: {reply}")
            log.write(f"{w} {i}\n")


def reader(r, done):
    checks = 0
    while True:
        finished = done.is_set()
        for w in range(WRITERS):
            path = os.path.join(ACK_DIR, f"w{w}")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                acked = [line.split() for line in f if line.endswith("\n")]
            for wi, i in acked[r::READERS]:
                key = f"w{wi}-{i}"
                val = get(key)
                check(val == value_of(int(wi), int(i)), f"reader {r}: acknowledged {key} read back as {val!r}")
                checks += 1
        if finished:
            return checks
        time.sleep(0.01)


def run_reader(r, done, results):
    try:
        results.put(reader(r, done))
    except Exception as e:  # reported by the parent, which fails the test
        results.put(f"reader {r}: {e}")


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    done, results = ctx.Event(), ctx.Queue()
    readers = [ctx.Process(target=run_reader, args=(r, done, results)) for r in range(READERS)]
    writers = [ctx.Process(target=writer, args=(w,)) for w in range(WRITERS)]
    for p in readers + writers:
        p.start()
    for p in writers:
        p.join(timeout=120)
        check(p.exitcode == 0, f"a writer failed (exit code {p.exitcode})")
    done.set()
    outcomes = [results.get(timeout=120) for _ in readers]
    for outcome in outcomes:
        check(isinstance(outcome, int), outcome)
    checks = sum(outcomes)
    for p in readers:
        p.join(timeout=30)
        check(p.exitcode == 0, f"a reader failed (exit code {p.exitcode})")
    for w in range(WRITERS):
        for i in range(KEYS):
            check(get(f"w{w}-{i}", 1) == value_of(w, i), f"w{w}-{i} missing at the end")
    print(f"{WRITERS} writers stored {WRITERS * KEYS} keys; readers made {checks} checks while they wrote")
