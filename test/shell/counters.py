"""INCR and PUT if absent under contention (shmkv-protocol(7), INCR and Conditional PUT):
8 processes x 500 INCRs of one key end at exactly 4,000 with 4,000 distinct
replies; 8 processes racing to PUT one key "if absent" get exactly one "ok"."""

import json
import multiprocessing
import sys

from wire import check, connect, frame, recv_frame

PORT = int(sys.argv[1])
PROCS = 8
INCRS = 500


def ask(s, body):
    s.sendall(frame(2, json.dumps(body)))
    return json.loads(recv_frame(s)[1])


def incr_many(start, out):
    with connect(PORT) as s:
        start.wait()
        got = []
        for _ in range(INCRS):
            r = ask(s, {"func": "INCR", "params": {"obj": "counter"}})
            got.append(r["response"]["response"]["val"])
        out.put(got)


def put_if_absent(start, key, who, out):
    with connect(PORT) as s:
        start.wait()
        r = ask(s, {"func": "PUT", "params": {"obj": key, "val": who, "if": "absent", "ttl": 60}})
        out.put((who, r["response"]["response"]["response"]))


def race(target, args_of):
    start = multiprocessing.Barrier(PROCS)
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=target, args=(start, *args_of(i), out)) for i in range(PROCS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
        check(p.exitcode == 0, f"a racer exited with {p.exitcode}")
    return results


replies = [v for got in race(incr_many, lambda i: ()) for v in got]
check(len(replies) == PROCS * INCRS, f"{len(replies)} replies")
check(sorted(replies) == list(range(1, PROCS * INCRS + 1)), "INCR replies are not 1..4000, each once")
with connect(PORT) as s:
    final = ask(s, {"func": "GET", "params": {"obj": "counter"}})["response"]["response"]["val"]
    check(final == PROCS * INCRS, f"counter ended at {final}")

for round_ in range(20):
    key = f"lock:{round_}"
    results = race(put_if_absent, lambda i: (key, i))
    winners = [who for who, answer in results if answer == "ok"]
    check(len(winners) == 1, f"round {round_}: {len(winners)} winners: {results}")
    check(sorted(a for _, a in results) == ["not stored"] * (PROCS - 1) + ["ok"], f"answers: {results}")
    with connect(PORT) as s:
        holder = ask(s, {"func": "GET", "params": {"obj": key}})["response"]["response"]["val"]
        check(holder == winners[0], f"round {round_}: {holder} holds the key, {winners[0]} won")
print("counters: ok")
