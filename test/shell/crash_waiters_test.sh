#!/usr/bin/env bash
# Clients waiting for the store lock when its holder dies each get an answer,
# OK or the documented "store unavailable: recovering, retry": never a
# connection closed without a reply, never a reply that names a library; a
# retry then succeeds. Both ways to die in the store: the
# holder SIGKILLed, and a worker aborting in the store (DEBUG crash) behind a
# queue of waiters.
. "$(dirname "$0")/lib.sh"
start_daemon --debug-commands
cd "$ROOT/test/shell"
python3 - "$PORT" <<'PY'
import json, os, signal, sys, threading, time
from wire import call, check, connect, frame, recv_frame, worker_pid

port = int(sys.argv[1])
WAITERS = 30
RECOVERING = {"status": "ERROR", "error": "store unavailable: recovering, retry"}
acked = {}


def wait_serving(since):
    while True:
        try:
            if call(port, {"func": "GET", "params": {"obj": "probe"}})["status"] == "OK":
                return time.time() - since
        except (OSError, EOFError):
            pass
        check(time.time() - since < 10, "not served again within 10 s")
        time.sleep(0.01)


def waiters(tag, crash):
    """Starts WAITERS PUTs that queue for the lock, runs crash(), and checks
    every reply; then that each connection is still open and served."""
    socks = []
    for i in range(WAITERS):
        s = connect(port)
        s.settimeout(10)
        s.sendall(frame(2, json.dumps({"func": "PUT", "params": {"obj": f"{tag}{i}", "val": i}})))
        socks.append(s)
    time.sleep(0.5)  # all of them wait for the lock
    crash()
    died = time.time()
    replies = [None] * WAITERS
    def read(i):
        try:
            replies[i] = json.loads(recv_frame(socks[i])[1])
        except (OSError, EOFError) as e:
            replies[i] = f"connection closed without a reply ({e!r})"
    threads = [threading.Thread(target=read, args=(i,)) for i in range(WAITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = {"ok": 0, "recovering": 0}
    for i, reply in enumerate(replies):
        check(isinstance(reply, dict), f"{tag}{i}: {reply}")
        check("boost" not in json.dumps(reply).lower(), f"{tag}{i}: a reply names a library: {reply}")
        if reply["status"] == "OK":
            acked[f"{tag}{i}"] = i
            counts["ok"] += 1
        else:
            check(reply == RECOVERING, f"{tag}{i}: {reply}")
            counts["recovering"] += 1
    out = wait_serving(died)
    # A retry succeeds (on a new connection: the workers that served the
    # old store are replaced, and their connections closed after the reply).
    for i, s in enumerate(socks):
        s.close()
        if replies[i] == RECOVERING:
            reply = call(port, {"func": "PUT", "params": {"obj": f"{tag}{i}", "val": i}})
            check(reply["status"] == "OK", f"{tag}{i}: the retry got {reply}")
            acked[f"{tag}{i}"] = i
    print(f"{tag}: {counts['ok']} OK, {counts['recovering']} recovering, 0 closed; served again after {out:.2f} s")


check(call(port, {"func": "PUT", "params": {"obj": "probe", "val": 1}})["status"] == "OK", "PUT probe")

# 1. The holder SIGKILLed with waiters queued behind it.
holder = connect(port)
victim = worker_pid(holder)
holder.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 30000}}'))
time.sleep(0.3)
waiters("a", lambda: os.kill(victim, signal.SIGKILL))
holder.close()

# 2. A worker aborting in the store (DEBUG crash), queued with the waiters
# behind a holder that lets go: those before it are served, those after it
# get the error.
holder = connect(port)
holder.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 1500}}'))
time.sleep(0.3)
crasher = connect(port)
def crash():
    crasher.sendall(frame(2, '{"func": "DEBUG", "params": {"crash": "in_store"}}'))
    time.sleep(1.5)  # the hold ends; the queue, the crasher among it, goes through the lock
waiters("b", crash)
holder.close()
crasher.close()

with connect(port) as s:
    for key, val in acked.items():
        s.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": key}})))
        got = json.loads(recv_frame(s)[1])["response"]["response"]["val"]
        check(got == val, f"{key}: acknowledged {val}, read {got!r}")
stats = call(port, {"func": "STATS", "params": {}})["response"]["response"]
check(stats["recoveries"] == 2, f"recoveries: {stats}")
print(f"{len(acked)} acknowledged PUTs intact after 2 recoveries")
PY
if grep -qi "boost" "$DAEMON_LOG"; then fail "the log names Boost's exception rather than what happened"; fi
# The waiters refused during the recoveries add no error line each: the
# parent logs a recovery once.
refusals=$(grep -c "error: PUT: store unavailable: recovering" "$DAEMON_LOG" || true)
[ "$refusals" -eq 0 ] || fail "$refusals refused requests logged an error line each"
grep -q "recover" "$DAEMON_LOG" || fail "the recoveries were not logged"
