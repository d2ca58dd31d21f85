#!/usr/bin/env bash
# --lock-timeout: a worker stopped (SIGSTOP) while it holds the store lock is
# killed after the timeout and the store recovered; every client waiting
# behind it gets an answer (OK, or the documented recovering error) within a
# bounded time, the kill is logged as what it is, and no acknowledged write
# is lost.
. "$(dirname "$0")/lib.sh"
start_daemon --debug-commands --lock-timeout 2
cd "$ROOT/test/shell"
python3 - "$PORT" <<'PY' | tee "$WORK/out"
import json, os, signal, sys, threading, time
from wire import call, check, connect, frame, get, recv_frame, worker_pid

port = int(sys.argv[1])
with connect(port) as s:
    s.sendall(b"".join(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"k{i}", "val": i}})) for i in range(200)))
    for _ in range(200):
        check(json.loads(recv_frame(s)[1])["status"] == "OK", "PUT")

holder = connect(port)
victim = worker_pid(holder)
holder.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 60000}}'))
time.sleep(0.3)
os.kill(victim, signal.SIGSTOP)
stopped_at = time.time()

# Clients that arrive while the holder is stopped: each must be answered.
answers, lock = [], threading.Lock()
def client(i):
    try:
        with connect(port) as s:
            s.settimeout(15)
            s.sendall(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"w{i}", "val": i}})))
            reply = json.loads(recv_frame(s)[1])
            result = (reply, time.time() - stopped_at)
    except (OSError, EOFError) as e:
        result = (f"no reply: {e!r}", time.time() - stopped_at)
    with lock:
        answers.append((i, result))
threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
acked = []
for i, (reply, took) in answers:
    check(isinstance(reply, dict), f"client {i}: {reply}")
    check("boost" not in json.dumps(reply).lower(), f"client {i}: a reply names a library: {reply}")
    if reply["status"] == "OK":
        acked.append(i)
    else:
        check(reply == {"status": "ERROR", "error": "store unavailable: recovering, retry"}, f"client {i}: {reply}")
    check(took < 10, f"client {i} waited {took:.1f} s for its answer")
longest = max(took for _, (_, took) in answers)

# The stopped worker is gone, killed by the parent, not by this test.
deadline = time.time() + 10
while time.time() < deadline:
    try:
        with open(f"/proc/{victim}/stat") as f:
            if f.read().split(") ")[1].startswith("Z"):
                break
    except FileNotFoundError:
        break
    time.sleep(0.05)
else:
    os.kill(victim, signal.SIGKILL)
    check(False, f"the stopped worker {victim} still lives 10 s after it was stopped")

# Served again, with every acknowledged write.
while True:
    try:
        if call(port, {"func": "GET", "params": {"obj": "k0"}})["status"] == "OK":
            break
    except (OSError, EOFError):
        pass
    check(time.time() - stopped_at < 15, "not served again within 15 s of the stop")
    time.sleep(0.05)
with connect(port) as s:
    for i in range(200):
        got = get(s, f"k{i}")
        check(got == i, f"k{i} read back as {got!r}")
    for i in acked:
        got = get(s, f"w{i}")
        check(got == i, f"w{i}, acknowledged, read back as {got!r}")
stats = call(port, {"func": "STATS", "params": {}})["response"]["response"]
check(stats["recoveries"] == 1 and stats["store_status"] == "ok", f"STATS after the recovery: {stats}")
print(f"20 clients answered within {longest:.1f} s of the stop ({len(acked)} OK); 200 keys intact")
print(json.dumps({"victim": victim}))
PY
victim=$(tail -n 1 "$WORK/out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["victim"])')
grep -qE "worker $victim held the store lock for [0-9.]+ s: killed" "$DAEMON_LOG" || fail "the kill was not logged as a lock timeout"
grep -q "store $NAME recovered after worker $victim killed by signal 9" "$DAEMON_LOG" || fail "recovery not logged"

# --lock-timeout checks its value.
rc=0
"$SHMKVD" --lock-timeout -1 --name "$NAME" 2>"$WORK/err" || rc=$?
expect_eq "$rc" 2 "exit status for --lock-timeout -1"
grep -q -- "--lock-timeout takes a whole number from 0 to 3600" "$WORK/err" || fail "bad --lock-timeout: $(cat "$WORK/err")"
