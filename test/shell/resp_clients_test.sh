#!/usr/bin/env bash
# RESP with real client programs (shmkv-protocol(7), RESP): redis-benchmark
# -t set,get answers every request without an error, and Debian's redis-py
# (under /usr/bin/python3) pipelines 1,000 commands, walks scan_iter while
# keys come and go, and round-trips values of all 256 byte values; a binary
# value read over JSON gets the documented error.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --max-children 64

timeout 120 redis-benchmark -p "$RESP_PORT" -t set,get -n 20000 -c 20 -P 4 -q --csv >"$WORK/bench" 2>&1 ||
  fail "redis-benchmark: $(tail -n 5 "$WORK/bench")"
grep -q '"SET"' "$WORK/bench" && grep -q '"GET"' "$WORK/bench" || fail "redis-benchmark: $(cat "$WORK/bench")"
grep -qiE 'error|ERR ' "$WORK/bench" && fail "redis-benchmark saw errors: $(cat "$WORK/bench")"
# Every request was answered: the daemon counted at least as many.
requests=$("$SHMKV" -p "$PORT" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests_total"])')
[ "$requests" -ge 40000 ] || fail "requests_total $requests after 40,000 RESP requests"

timeout 60 /usr/bin/python3 - "$RESP_PORT" <<'PY' || fail "redis-py"
import sys
import redis

r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=10)
assert r.ping()

# A pipeline of 1,000 SETs, then one of 1,000 GETs.
with r.pipeline(transaction=False) as p:
    for i in range(1000):
        p.set(f"py:{i}", f"v{i}")
    assert p.execute() == [True] * 1000
with r.pipeline(transaction=False) as p:
    for i in range(1000):
        p.get(f"py:{i}")
    assert p.execute() == [f"v{i}".encode() for i in range(1000)]

# Values of every byte value, and one of each single byte.
everything = bytes(range(256))
r.set("bin:all", everything)
assert r.get("bin:all") == everything, r.get("bin:all")
for b in range(256):
    r.set(f"bin:{b}", bytes([b]))
assert r.mget([f"bin:{b}" for b in range(256)]) == [bytes([b]) for b in range(256)]
assert r.strlen("bin:all") == 256

# scan_iter sees every key that stays, while others are added and removed.
stay = {f"py:{i}" for i in range(1000)}
seen = set()
for n, key in enumerate(r.scan_iter(match="py:*", count=50)):
    seen.add(key.decode())
    if n % 10 == 0:
        r.set(f"py:new:{n}", "x")
        r.delete(f"py:new:{n - 10}")
missing = stay - seen
assert not missing, sorted(missing)[:5]

assert r.exists("py:1", "py:2", "nope") == 2
assert r.delete("py:1", "nope") == 1
assert r.getset("py:2", "new") == b"v2"
assert r.getdel("py:2") == b"new"
assert r.get("py:2") is None
assert r.type("py:3") == b"string"
assert r.dbsize() >= 1000
assert r.config_get("databases") == {"databases": "1"}
assert "db0" in r.info("keyspace")

assert r.incr("counter") == 1
assert r.incrby("counter", 41) == 42
assert r.set("k", "v", ex=10) is True
assert r.ttl("k") in (9, 10)
assert r.set("k", "w", nx=True) is None
assert r.set("k", "w", xx=True, get=True, keepttl=True) == b"v"
assert r.persist("k") == 1 and r.ttl("k") == -1
assert not r.setnx("k", "x")
try:
    r.hset("h", "f", "v")
    raise SystemExit("HSET answered")
except redis.ResponseError as e:
    assert str(e).startswith("unknown command 'HSET', with args beginning with: 'h' 'f' 'v'"), e
PY

# A binary value read over JSON gets the documented error; a text one reads.
run_cli -p "$PORT" get bin:all
[ "$RC" -ne 0 ] || fail "a binary value read over JSON: exit 0, '$OUT'"
case $ERR in *"refused GET: value of bin:all is binary: read it over RESP"*) ;; *) fail "a binary value read over JSON: $ERR" ;; esac
run_cli -p "$PORT" get py:5
expect_eq "$OUT" '"v5"' "a RESP value read over JSON"
echo "ok resp_clients"
