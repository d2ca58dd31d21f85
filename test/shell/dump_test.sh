#!/usr/bin/env bash
# shmkv dump and restore: dump | restore into a fresh daemon gives the same
# store byte for byte, a key's expiry included; a bad line is reported with its number, skipped, and
# the exit status says so; dump --format resp | redis-cli --pipe into a
# redis-server started here gives the same values.
. "$(dirname "$0")/lib.sh"
DATA="python3 $ROOT/test/shell/snapshot_data.py"
REDIS_PID=
trap 'rc=$?; set +e; [ -z "$REDIS_PID" ] || { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }; (exit $rc); cleanup' EXIT

start_daemon --memory 64M
$DATA load "$PORT" 5000 "$WORK/expected.json"
printf '{"x":\n 1}' | "$SHMKV" -p "$PORT" put "line break" -
"$SHMKV" -p "$PORT" put --ttl 1000 expiring 7 || fail "put --ttl"
python3 - "$WORK/expected.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); e["line break"] = '{"x":\n 1}'; e["expiring"] = "7"
json.dump(e, open(sys.argv[1], "w"))
PY
run_cli -p "$PORT" dump
expect_eq "$RC" 0 "dump's exit status ($ERR)"
cp "$WORK/out" "$WORK/dump.jsonl"
expect_eq "$(wc -l < "$WORK/dump.jsonl")" 5002 "lines in the dump"
grep -qE '^\{"obj": "expiring", "val": 7, "ttl": 99[0-9]\.[0-9]+\}$' "$WORK/dump.jsonl" ||
  fail "the key with a ttl: $(grep expiring "$WORK/dump.jsonl")"
grep -qF '{"obj": "line break", "val_text": "{\"x\":\n 1}"}' "$WORK/dump.jsonl" || fail "the value with a line break"
run_cli -p "$PORT" dump --format resp
cp "$WORK/out" "$WORK/dump.resp"
run_cli -p "$PORT" dump "key:00001"
expect_eq "$(wc -l < "$WORK/out")" 10 "lines in a dump of a prefix"
stop_daemon
rm -f "/dev/shm/$NAME"

# Into a fresh daemon, with two bad lines among the good ones.
start_daemon --memory 64M
{ head -n 100 "$WORK/dump.jsonl"; echo 'not json'; sed -n '101,$p' "$WORK/dump.jsonl"; echo '{"obj": 1, "val": 2}'; } > "$WORK/bad.jsonl"
run_cli -p "$PORT" restore "$WORK/bad.jsonl"
expect_eq "$RC" 2 "restore's exit status with bad lines"
expect_eq "$OUT" "restored 5002 keys" "restore's count"
grep -q "^shmkv: line 101: not one JSON object" <<<"$ERR" || fail "line 101 not reported: $ERR"
grep -q "^shmkv: line 5004: obj must be a string" <<<"$ERR" || fail "line 5004 not reported: $ERR"
left=$("$SHMKV" -p "$PORT" ttl expiring)
python3 -c "import sys; sys.exit(not 900 < float(sys.argv[1]) <= 1000)" "$left" || fail "ttl after restore: $left"
$DATA check "$PORT" "$WORK/expected.json"
# From standard input, with nothing wrong: exit 0.
"$SHMKV" -p "$PORT" restore < "$WORK/dump.jsonl" > "$WORK/restored" || fail "restore from stdin failed"
expect_eq "$(cat "$WORK/restored")" "restored 5002 keys" "restore from stdin"
run_cli -p "$PORT" dump
# The seconds left have run down meanwhile: compare without them.
without_ttl() { sed -E 's/, "ttl": [0-9.]+\}$/}/' "$1"; }
cmp -s <(without_ttl "$WORK/out") <(without_ttl "$WORK/dump.jsonl") || fail "dump after restore differs from the first dump"

# Into Redis: a redis-server of our own on a free port, in its own directory.
mkdir -p "$WORK/redis"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for i in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$RPORT" --pipe < "$WORK/dump.resp" > "$WORK/pipe.out" || fail "redis-cli --pipe: $(cat "$WORK/pipe.out")"
grep -q "errors: 0, replies: 5002" "$WORK/pipe.out" || fail "redis-cli --pipe said: $(cat "$WORK/pipe.out")"
/usr/bin/python3 - "$RPORT" "$WORK/expected.json" <<'PY'
import json, sys
import redis
r = redis.Redis(port=int(sys.argv[1]))
expected = json.load(open(sys.argv[2]))
assert r.dbsize() == len(expected), (r.dbsize(), len(expected))
for key, text in expected.items():
    value = json.loads(text)
    want = value.encode() if isinstance(value, str) else text.encode()
    got = r.get(key.encode())
    assert got == want, (key, got[:100], want[:100])
assert 900_000 < r.pttl("expiring") <= 1_000_000, r.pttl("expiring")
assert r.pttl("key:000001:") == -1
print(f"{len(expected)} values match in Redis")
PY
echo PASS
