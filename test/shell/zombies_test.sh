#!/usr/bin/env bash
# The parent reaps every worker: after 500 short connections no zombie
# children remain.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
python3 - "$PORT" <<'PY'
import sys
from wire import call, check
port = int(sys.argv[1])
for i in range(500):
    if i % 2:
        reply = call(port, {"func": "GET", "params": {"obj": f"z{i - 1}"}}, 1)
        check(reply["response"]["response"]["val"] == i - 1, f"z{i - 1}: {reply}")
    else:
        call(port, {"func": "PUT", "params": {"obj": f"z{i}", "val": i}}, 1 + i % 4 // 2)
PY
# Workers exit as their clients close; give the last ones a bounded moment.
for i in $(seq 100); do
  children=$(ps -o stat= --ppid "$DAEMON_PID" || true)
  [ -z "$children" ] && break
  sleep 0.05
done
# ps exits 1 when there is no child at all: the outcome hoped for.
children=$(ps -o pid=,stat= --ppid "$DAEMON_PID" || true)
zombies=$(awk '$2 ~ /^Z/' <<<"$children" | grep -c . || true)
expect_eq "$zombies" 0 "zombie children of shmkvd"
expect_eq "$children" "" "workers left after their clients closed"
