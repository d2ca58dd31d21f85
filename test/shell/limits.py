"""--max-children 4 with 10 idle connections: never more than 4 workers; a
waiting connection is served as soon as a served one closes; an 11th
connection's GET is answered once the ones before it have closed, without
any help from the idle timeout (60 s here)."""

import json
import subprocess
import sys
import time

from wire import check, connect, frame, recv_frame

port, daemon_pid, limit = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
max_seen = 0


def workers():
    global max_seen
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(daemon_pid)], capture_output=True, text=True).stdout
    n = len(out.split())
    max_seen = max(max_seen, n)
    return n


def get(s, key):
    s.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": key}})))


idle = [connect(port) for _ in range(10)]
for s in idle[:limit]:  # the first four are served
    get(s, "x")
    recv_frame(s)
time.sleep(0.3)  # the other six wait in the backlog; give the parent a chance to misbehave
check(workers() == limit, f"{workers()} workers with {limit} as the limit")

# A waiting connection is served as soon as one served connection closes.
get(idle[limit], "fifth")
idle[limit].settimeout(0.5)
try:
    recv_frame(idle[limit])
    raise AssertionError("a 5th connection was served beyond --max-children")
except TimeoutError:
    pass
idle[0].close()
idle[limit].settimeout(5)
start = time.time()
check(json.loads(recv_frame(idle[limit])[1])["response"]["response"]["obj"] == "fifth", "5th reply")
handoff = time.time() - start
check(workers() <= limit, "more workers than --max-children")

# The 11th connection waits behind the rest; as they close, it is served.
late = connect(port)
get(late, "late")
late.settimeout(0.5)
try:
    recv_frame(late)
    raise AssertionError("the 11th connection was served beyond --max-children")
except TimeoutError:
    pass
for s in idle[1:]:
    s.close()
    workers()
late.settimeout(5)
start = time.time()
reply = json.loads(recv_frame(late)[1])
check(reply["response"]["response"] == {"obj": "late", "val": None}, f"late reply {reply}")
late.close()
check(max_seen <= limit, f"saw {max_seen} workers")
print(f"never more than {limit} workers; a waiting connection served {handoff:.3f} s after a close; "
      f"the 11th {time.time() - start:.3f} s after the others closed")
