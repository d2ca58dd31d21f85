"""shmkv's extensions on the wire (shmkv-protocol(7), Requests and replies): DELETE, KEYS
paging, STATS."""

import json
import os
import sys
import time

from wire import call, check, connect, frame, recv_frame

PORT = int(sys.argv[1])


def ok(reply, func):
    check(reply["status"] == "OK" and reply["response"]["func"] == func, f"{func}: {reply}")
    return reply["response"]["response"]


# KEYS over 2,500 keys under three prefixes, with keys whose bytes sort
# differently from their code points' UTF-16 order.
prefixes = {"alpha/": 1000, "beta/": 900, "gamma\u00e9/": 600}
stored = []
with connect(PORT) as s:
    batch = []
    for prefix, n in prefixes.items():
        for i in range(n):
            key = f"{prefix}{i}" + ("\U0001f600" if i % 97 == 0 else "") + ("\uff5e" if i % 89 == 0 else "")
            stored.append(key)
            batch.append(frame(2, json.dumps({"func": "PUT", "params": {"obj": key, "val": i}})))
    s.sendall(b"".join(batch))
    for _ in batch:
        check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT failed")


def page_all(prefix, limit):
    keys, after, pages = [], None, 0
    with connect(PORT) as s:
        while True:
            params = {"prefix": prefix, "limit": limit}
            if after is not None:
                params["after"] = after
            s.sendall(frame(2, json.dumps({"func": "KEYS", "params": params})))
            r = ok(json.loads(recv_frame(s)[1]), "KEYS")
            keys += r["keys"]
            pages += 1
            if not r["more"]:
                return keys, pages
            check(r["keys"], "an empty page that says more")
            after = r["keys"][-1]


for prefix, n in prefixes.items():
    expected = sorted((k for k in stored if k.startswith(prefix)), key=lambda k: k.encode())
    for limit in (1000, 333, 7):
        keys, pages = page_all(prefix, limit)
        check(keys == expected, f"KEYS {prefix!r} limit {limit}: {len(keys)} keys, expected {len(expected)} in byte order")
        check(pages == -(-n // limit) or pages == n // limit + 1, f"{prefix!r} limit {limit}: {pages} pages")
everything, _ = page_all("", 100000)
check(everything == sorted(stored, key=lambda k: k.encode()), "KEYS with no prefix")

# DELETE, then GET from another connection.
check(ok(call(PORT, {"func": "DELETE", "params": {"obj": "alpha/5"}}), "DELETE") == {"obj": "alpha/5", "response": "ok"},
      "DELETE of a present key")
check(ok(call(PORT, {"func": "GET", "params": {"obj": "alpha/5"}}, 1), "GET")["val"] is None, "GET after DELETE")
check(ok(call(PORT, {"func": "DELETE", "params": {"obj": "alpha/5"}}), "DELETE") == {"obj": "alpha/5", "response": "not found"},
      "DELETE of an absent key")

# STATS: keys as stored; connections_active counts open idle connections.
idle = [connect(PORT) for _ in range(3)]
for s in idle:  # a round trip each, so each surely has its worker
    s.sendall(frame(2, '{"func": "GET", "params": {"obj": "x"}}'))
    recv_frame(s)
stats = ok(call(PORT, {"func": "STATS", "params": {}}), "STATS")
check(stats["keys"] == len(stored) - 1, f"STATS keys {stats['keys']}, expected {len(stored) - 1}")
check(stats["connections_active"] >= 4, f"connections_active {stats['connections_active']} with 3 idle + 1")
check(stats["store_bytes"] > stats["store_free_bytes"] > 0, f"store sizes {stats}")
check(stats["pid"] != stats["worker_pid"] and stats["worker_pid"] != os.getpid(), f"pids {stats}")
check(stats["requests_total"] >= len(stored), f"requests_total {stats['requests_total']}")
check(isinstance(stats["version"], str) and stats["uptime_seconds"] >= 0, f"stats {stats}")
for s in idle:
    s.close()
for _ in range(100):
    stats = ok(call(PORT, {"func": "STATS", "params": {}}), "STATS")
    if stats["connections_active"] == 1:
        break
    time.sleep(0.05)
check(stats["connections_active"] == 1, f"connections_active {stats['connections_active']} after the idle ones closed")
check(stats["connections_total"] >= 2500 // 1000 + 3, f"connections_total {stats['connections_total']}")
print(f"KEYS paged {len(stored)} keys in byte order; DELETE and STATS as specified")
