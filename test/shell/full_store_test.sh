#!/usr/bin/env bash
# A crash in a full store: a 1 MiB store filled so that its hash index could
# not grow loses no acknowledged key when a worker dies in it. The salvage
# gives the fresh segment the room a full-sized index needs (STATS
# store_bytes and the log report the larger size) instead of calling the
# store damaged; the same at start-up, after a daemon killed with a worker
# dead in its store.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"

# fill: 8192 small keys fill the index's 4096 buckets; the next key starts a
# doubling that needs 32 KiB in one piece, and a big value leaves less than
# that, so the index cannot grow while small keys fill the rest. Writes the
# acknowledged keys to $WORK/acked.
fill() {
  python3 - "$PORT" "$WORK/acked" <<'PY'
import json, sys
from wire import call, check, connect, frame, recv_frame

port, acked_path = int(sys.argv[1]), sys.argv[2]
acked = []
def put_many(keys, s):
    s.sendall(b"".join(frame(2, json.dumps({"func": "PUT", "params": {"obj": k, "val": ""}})) for k in keys))
    full = False
    for k in keys:
        reply = json.loads(recv_frame(s)[1])
        if reply["status"] == "OK":
            acked.append(k)
        else:
            check(reply == {"status": "ERROR", "error": "store is full"}, f"PUT {k}: {reply}")
            full = True
    return full
with connect(port) as s:
    put_many([f"k{i:07}" for i in range(8192)], s)
    check(len(acked) == 8192, f"only {len(acked)} of 8192 keys fit")
    free = call(port, {"func": "STATS", "params": {}})["response"]["response"]["store_free_bytes"]
    check(free > 40000, f"store_free_bytes {free}")
    reply = call(port, {"func": "PUT", "params": {"obj": "big", "val": "b" * (free - 24000)}})
    check(reply["status"] == "OK", f"PUT big: {reply}")
    n = 8193
    while not put_many([f"k{i:07}" for i in range(n, n + 100)], s):
        n += 100
stats = call(port, {"func": "STATS", "params": {}})["response"]["response"]
check(stats["store_bytes"] == 1 << 20, f"store_bytes {stats['store_bytes']}")
with open(acked_path, "w") as f:
    f.write("\n".join(acked) + "\n")
print(f"{len(acked) + 1} keys acknowledged before the store filled; {stats['store_free_bytes']} bytes free")
PY
}

# check_all: every acknowledged key reads back, and the segment grew.
check_all() {
  python3 - "$PORT" "$WORK/acked" <<'PY'
import json, sys
from wire import call, check, connect, frame, recv_frame

port, acked_path = int(sys.argv[1]), sys.argv[2]
keys = open(acked_path).read().split()
with connect(port) as s:
    for k in keys:
        s.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": k}})))
        reply = json.loads(recv_frame(s)[1])
        check(reply["status"] == "OK" and reply["response"]["response"]["val"] == "", f"{k}: {reply}")
big = call(port, {"func": "GET", "params": {"obj": "big"}})["response"]["response"]["val"]
check(set(big) == {"b"} and len(big) > 1000, "the big value")
stats = call(port, {"func": "STATS", "params": {}})["response"]["response"]
check(stats["keys"] == len(keys) + 1, f"keys {stats['keys']}, {len(keys) + 1} acknowledged")
check(stats["store_bytes"] > 1 << 20, f"store_bytes {stats['store_bytes']}: the segment did not grow")
check(call(port, {"func": "PUT", "params": {"obj": "after", "val": 1}})["status"] == "OK", "a PUT after")
print(f"{len(keys) + 1} keys intact in a segment of {stats['store_bytes']} bytes")
PY
}

# 1. A worker dies in the full store while the daemon runs.
start_daemon --memory 1M --debug-commands
fill
python3 - "$PORT" <<'PY'
import sys, time
from wire import call, check, closed_by_peer, connect, frame
port = int(sys.argv[1])
s = connect(port)
s.sendall(frame(2, '{"func": "DEBUG", "params": {"crash": "in_store"}}'))
check(closed_by_peer(s), "the crashing request was answered")
deadline = time.time() + 10
while time.time() < deadline:
    try:
        if call(port, {"func": "GET", "params": {"obj": "k0000000"}})["status"] == "OK":
            break
    except (OSError, EOFError):
        pass
    time.sleep(0.02)
else:
    check(False, "not served within 10 s of the crash")
PY
check_all
grep -qE "store $NAME recovered after .*: [0-9]+ keys copied into a fresh segment of [0-9]+ bytes \(the old one, of 1048576 bytes" "$DAEMON_LOG" ||
  fail "the recovery into a larger segment was not logged"
if grep -q "found it damaged\|recovery of store .* failed" "$DAEMON_LOG"; then fail "a full store was called damaged"; fi
stop_daemon
"$SHMKVD" --remove-store --name "$NAME" 2>>"$DAEMON_LOG"

# 2. The daemon dies too, with a worker dead in its full store: the next
# start salvages it. The parent is stopped while the worker aborts, so that
# it cannot recover the store first, then killed.
start_daemon --memory 1M --debug-commands
fill
kill -STOP "$DAEMON_PID"
python3 - "$PORT" <<'PY'
import sys
from wire import check, closed_by_peer, connect, frame
s = connect(int(sys.argv[1]))
s.sendall(frame(2, '{"func": "DEBUG", "params": {"crash": "in_store"}}'))
check(closed_by_peer(s), "the crashing request was answered")
PY
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
for i in $(seq 100); do  # its workers leave on the parent's death
  pgrep -f -- "--name $NAME" >/dev/null || break
  sleep 0.1
done
start_daemon --memory 1M
grep -q "a process died holding its lock: rebuilding it before serving" "$DAEMON_LOG" ||
  fail "start-up did not notice the unusable lock"
grep -qE "store $NAME rebuilt: [0-9]+ keys copied into a fresh segment of [0-9]+ bytes \(the old one had 1048576\)" "$DAEMON_LOG" ||
  fail "the start-up rebuild into a larger segment was not logged"
check_all
