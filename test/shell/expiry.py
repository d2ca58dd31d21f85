"""Expiry on the wire (shmkv-protocol(7), Expiry): PUT's ttl, EXPIRE and TTL,
expired keys absent for every function, and active expiry: 20,000 keys with
a 1 s ttl disappear unread, and their memory returns to the store.

python3 expiry.py PORT                 the whole test
python3 expiry.py PORT restart-before  PUT keys with ttls, for a restart
python3 expiry.py PORT restart-after   after it: the ttls still hold"""

import json
import sys
import time

from wire import check, connect, frame, ok_body, recv_frame

PORT = int(sys.argv[1])
STEP = sys.argv[2] if len(sys.argv) > 2 else "all"


def ask(s, body):
    s.sendall(frame(2, json.dumps(body)))
    return json.loads(recv_frame(s)[1])


def raw(s, body):
    s.sendall(frame(2, json.dumps(body)))
    return recv_frame(s)[1]


def resp(s, body):
    r = ask(s, body)
    check(r["status"] == "OK", f"{body}: {r}")
    return r["response"]["response"]


def get(s, key):
    return resp(s, {"func": "GET", "params": {"obj": key}})["val"]


def ttl(s, key):
    return resp(s, {"func": "TTL", "params": {"obj": key}})["ttl"]


def stats(s):
    return resp(s, {"func": "STATS", "params": {}})


if STEP == "restart-before":
    with connect(PORT) as s:
        check(resp(s, {"func": "PUT", "params": {"obj": "short", "val": 1, "ttl": 3}})["response"] == "ok", "PUT")
        check(resp(s, {"func": "PUT", "params": {"obj": "long", "val": 2, "ttl": 3600}})["response"] == "ok", "PUT")
    sys.exit(0)

if STEP == "restart-after":
    with connect(PORT) as s:
        check(0 < ttl(s, "short") <= 3, f"short's ttl after the restart: {ttl(s, 'short')}")
        check(3590 < ttl(s, "long") <= 3600, f"long's ttl after the restart: {ttl(s, 'long')}")
        check(stats(s)["keys_with_ttl"] == 2, "the restart lost an expiry")
        deadline = time.monotonic() + 10
        while get(s, "short") is not None:
            check(time.monotonic() < deadline, "a ttl set before the restart did not end the key after it")
            time.sleep(0.1)
        check(ttl(s, "short") == -2, "short still has a ttl")
        check(get(s, "long") == 2, "long expired early")
    sys.exit(0)

with connect(PORT) as s:
    # Exact replies.
    check(raw(s, {"func": "PUT", "params": {"obj": "k", "val": [1], "ttl": 100}})
          == ok_body("PUT", {"obj": "k", "response": "ok"}), "PUT with ttl: reply")
    check(raw(s, {"func": "PUT", "params": {"obj": "k", "val": 2, "if": "absent"}})
          == ok_body("PUT", {"obj": "k", "response": "not stored"}), "PUT if absent: reply")
    check(raw(s, {"func": "EXPIRE", "params": {"obj": "nope", "ttl": 5}})
          == ok_body("EXPIRE", {"obj": "nope", "response": "not found"}), "EXPIRE of an absent key")
    check(raw(s, {"func": "EXPIRE", "params": {"obj": "k", "ttl": 200}})
          == ok_body("EXPIRE", {"obj": "k", "response": "ok"}), "EXPIRE: reply")
    check(199 < ttl(s, "k") <= 200, f"TTL after EXPIRE 200: {ttl(s, 'k')}")
    check(raw(s, {"func": "TTL", "params": {"obj": "nope"}}) == ok_body("TTL", {"obj": "nope", "ttl": -2}), "TTL -2")
    resp(s, {"func": "EXPIRE", "params": {"obj": "k", "ttl": None}})
    check(raw(s, {"func": "TTL", "params": {"obj": "k"}}) == ok_body("TTL", {"obj": "k", "ttl": -1}), "TTL -1")
    resp(s, {"func": "PUT", "params": {"obj": "k", "val": 3, "ttl": 0.25}})
    t = ttl(s, "k")
    check(0 < t <= 0.25 and round(t, 3) == t, f"TTL to the millisecond: {t}")
    resp(s, {"func": "PUT", "params": {"obj": "k", "val": 4}})
    check(ttl(s, "k") == -1, "a PUT without ttl kept the expiry")

    # An expired key does not exist, for every function, before any sweep.
    resp(s, {"func": "PUT", "params": {"obj": "gone/1", "val": 1, "ttl": 0.2}})
    resp(s, {"func": "PUT", "params": {"obj": "gone/2", "val": 1, "ttl": 0.2}})
    resp(s, {"func": "PUT", "params": {"obj": "gone/3", "val": 1}})
    time.sleep(0.3)
    check(get(s, "gone/1") is None, "GET of an expired key")
    check(resp(s, {"func": "KEYS", "params": {"prefix": "gone/"}})["keys"] == ["gone/3"], "KEYS shows an expired key")
    check(ttl(s, "gone/1") == -2, "TTL of an expired key")
    check(resp(s, {"func": "EXPIRE", "params": {"obj": "gone/1", "ttl": 9}})["response"] == "not found", "EXPIRE")
    check(resp(s, {"func": "PUT", "params": {"obj": "gone/2", "val": 9, "if": "present"}})["response"]
          == "not stored", "if present on an expired key")
    check(resp(s, {"func": "PUT", "params": {"obj": "gone/1", "val": 5, "if": "absent"}})["response"] == "ok",
          "if absent on an expired key")
    check(get(s, "gone/1") == 5, "PUT over an expired key")
    check(resp(s, {"func": "INCR", "params": {"obj": "gone/2"}})["val"] == 1, "INCR of an expired key")
    check(ttl(s, "gone/2") == -1, "INCR revived the old expiry")

    # Active expiry: 20,000 keys with a 1 s ttl, never read again.
    base = stats(s)
    n = 20000
    batch = [frame(2, json.dumps({"func": "PUT", "params": {"obj": f"session:{i:06}", "val": {"user": i,
                                  "pad": "x" * 20}, "ttl": 1}})) for i in range(n)]
    for i in range(0, n, 1000):
        s.sendall(b"".join(batch[i:i + 1000]))
        for _ in range(1000):
            check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT with ttl failed")
    put_done = time.monotonic()
    full = stats(s)
    check(full["keys"] >= base["keys"] + n and full["keys_with_ttl"] >= n, f"after the PUTs: {full}")
    used = base["store_free_bytes"] - full["store_free_bytes"]
    check(used >= n * 100, f"20,000 keys took only {used} bytes")
    # Bounded wait: expiry at 1 s after the PUTs, removal within about 2 s.
    while True:
        now = stats(s)
        if now["keys_with_ttl"] == 0:
            break
        check(time.monotonic() - put_done < 10, f"keys not removed 10 s after their PUT: {now}")
        time.sleep(0.1)
    took = time.monotonic() - put_done
    after = stats(s)
    check(after["keys"] == base["keys"], f"keys left: {after}")
    check(after["expired_keys_total"] >= base["expired_keys_total"] + n, f"expired_keys_total: {after}")
    # The memory came back, but for the hash index grown for the keys.
    back = after["store_free_bytes"] - full["store_free_bytes"]
    check(back >= used * 9 // 10, f"only {back} of {used} bytes came back")
    print(f"expiry: 20,000 keys removed {took:.1f} s after their PUT (1 s ttl); {back} of {used} bytes back")
print("expiry: ok")
