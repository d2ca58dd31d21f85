#!/usr/bin/env bash
# --worker-scheduling: by default every worker, pooled or serving JSON or
# RESP, runs under SCHED_BATCH while the parent keeps its own policy; with
# other, the workers keep the parent's (shmkvd(8), --worker-scheduling).
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"

# check_policies WORKERS: the parent's policy is SCHED_OTHER and that of each
# of its workers (its children, one of them serving a JSON connection and one
# a RESP connection while this runs) is WORKERS.
check_policies() {
  python3 - "$PORT" "$RESP_PORT" "$DAEMON_PID" "$1" <<'PY'
import os, socket, subprocess, sys
from wire import check, connect, worker_pid
port, resp_port, parent, want = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
names = {os.SCHED_OTHER: "other", os.SCHED_BATCH: "batch", os.SCHED_IDLE: "idle"}
def policy(pid):
    return names.get(os.sched_getscheduler(pid), "?")
check(policy(parent) == "other", f"the parent runs under {policy(parent)}, not other")
with connect(port) as json_conn, socket.create_connection(("127.0.0.1", resp_port), timeout=5) as resp_conn:
    json_worker = worker_pid(json_conn)
    resp_conn.sendall(b"PING\r\n")
    check(resp_conn.recv(16) == b"+PONG\r\n", "RESP PING")
    workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                                              text=True).stdout.split()]
    check(json_worker in workers, f"worker {json_worker} is not among the parent's children {workers}")
    check(len(workers) >= 2, f"a JSON and a RESP connection, yet only workers {workers}")
    for pid in workers:
        check(policy(pid) == want, f"worker {pid} runs under {policy(pid)}, not {want}")
print(f"{len(workers)} workers under {want}, the parent under other")
PY
}

RESP=1 start_daemon
check_policies batch
stop_daemon

RESP=1 start_daemon --worker-scheduling other
check_policies other
stop_daemon

rc=0
"$SHMKVD" --worker-scheduling fast 2>"$WORK/err" || rc=$?
expect_eq "$rc" 2 "exit status of a bad --worker-scheduling"
grep -q "^shmkvd: --worker-scheduling takes batch or other, not 'fast'$" "$WORK/err" ||
  fail "no usage message: $(cat "$WORK/err")"
