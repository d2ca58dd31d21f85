#!/usr/bin/env bash
# A salvage killed with SIGKILL (the OOM killer's choice during a recovery)
# is tried again, with a growing wait; meanwhile STATS says which attempt
# failed and data requests get "store unavailable: recovering, retry"; the
# store is served again, with every acknowledged key, once an attempt gets
# through. SHMKVD_DEBUG_SALVAGE_DELAY_MS makes each salvage slow enough to
# kill.
. "$(dirname "$0")/lib.sh"
export SHMKVD_DEBUG_SALVAGE_DELAY_MS=1000
start_daemon --debug-commands
unset SHMKVD_DEBUG_SALVAGE_DELAY_MS
cd "$ROOT/test/shell"
python3 - "$PORT" "$DAEMON_PID" <<'PY'
import json, os, signal, subprocess, sys, time
from wire import call, check, connect, frame, get, recv_frame

port, daemon = int(sys.argv[1]), int(sys.argv[2])
KILLS = 4
with connect(port) as s:
    s.sendall(b"".join(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"k{i}", "val": i}})) for i in range(500)))
    for _ in range(500):
        check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT")


def salvage_child(timeout):
    """The pid of the daemon's shmkvd-salvage child, waited for."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(daemon)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            pid, comm = line.split(None, 1)
            if comm.strip() == "shmkvd-salvage":
                return int(pid)
        time.sleep(0.01)
    check(False, f"no shmkvd-salvage child within {timeout} s")


def try_call(body, timeout):
    try:
        with connect(port) as s:
            s.settimeout(timeout)
            s.sendall(frame(2, json.dumps(body)))
            return json.loads(recv_frame(s)[1])
    except (OSError, EOFError):
        return None


crasher = connect(port)
crasher.sendall(frame(2, '{"func": "DEBUG", "params": {"crash": "in_store"}}'))
crashed_at = time.time()
seen_status, seen_error = None, None
for attempt in range(1, KILLS + 1):
    os.kill(salvage_child(10), signal.SIGKILL)
    # The wait before the next attempt doubles from 0.1 s: look during it.
    wait = 0.1 * 2 ** (attempt - 1)
    deadline = time.time() + wait
    while time.time() < deadline and attempt >= 3:
        stats = try_call({"func": "STATS", "params": {}}, 0.2)
        if stats and stats["response"]["response"]["store_status"].startswith(f"recovering: salvage attempt {attempt} failed"):
            seen_status = stats["response"]["response"]["store_status"]
            seen_error = try_call({"func": "GET", "params": {"obj": "k1"}}, 0.2) or seen_error
            break
        time.sleep(0.02)
check(seen_status is not None, "STATS never said that a salvage attempt failed")
check(f"salvage attempt" in seen_status and "killed by signal 9" in seen_status and "retrying in" in seen_status,
      f"store_status: {seen_status}")
check(seen_error in (None, {"status": "ERROR", "error": "store unavailable: recovering, retry"}),
      f"a GET during the recovery: {seen_error}")

# The next attempt is left alone, and gets through.
while True:
    reply = try_call({"func": "GET", "params": {"obj": "k0"}}, 2)
    if reply and reply["status"] == "OK":
        break
    check(time.time() - crashed_at < 30, "not served again within 30 s of the crash")
    time.sleep(0.05)
with connect(port) as s:
    for i in range(500):
        got = get(s, f"k{i}")
        check(got == i, f"k{i} read back as {got!r}")
stats = call(port, {"func": "STATS", "params": {}})["response"]["response"]
check(stats["recoveries"] == 1 and stats["store_status"] == "ok", f"STATS after the recovery: {stats}")
print(f"{KILLS} salvages killed; STATS said '{seen_status}'; served again after {time.time() - crashed_at:.1f} s "
      f"with 500 keys intact")
PY
for n in 1 2 3 4; do
  grep -qE "recovering store $NAME: salvage attempt $n failed: the salvage process was killed by signal 9 \(Killed\); retrying in [0-9.]+ s" "$DAEMON_LOG" ||
    fail "attempt $n's failure not logged"
done
grep -q "store $NAME recovered after .* at attempt 5" "$DAEMON_LOG" || fail "the recovery at attempt 5 not logged"
[ -e "/dev/shm/$NAME.salvage" ] && fail "salvage segment left behind"
true
