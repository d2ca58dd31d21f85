#!/usr/bin/env bash
# The parent reaps every worker: after 500 short connections no zombie
# children remain, with a pool of spare workers and with a fork per
# connection.
. "$(dirname "$0")/lib.sh"

# run_connections makes 500 one-request connections, half of them PUTs.
run_connections() {
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
}

# children_settle waits (bounded) until shmkvd has at most $1 children and
# none of them a zombie; then prints them.
children_settle() {
  local i children
  for i in $(seq 100); do
    # ps exits 1 when there is no child at all.
    children=$(ps -o pid=,stat= --ppid "$DAEMON_PID" || true)
    if [ "$(grep -c . <<<"$children" || true)" -le "$1" ] && ! awk '$2 ~ /^Z/ {z=1} END {exit !z}' <<<"$children"; then
      break
    fi
    sleep 0.05
  done
  echo "$children"
}

cd "$ROOT/test/shell"
start_daemon --spare-workers 3
run_connections
children=$(children_settle 4)
expect_eq "$(awk '$2 ~ /^Z/' <<<"$children" | grep -c . || true)" 0 "zombies with a pool"
[ "$(grep -c . <<<"$children" || true)" -le 4 ] || fail "more than --spare-workers 3 (+1) idle workers: $children"
stop_daemon

start_daemon --spare-workers 0
run_connections
expect_eq "$(children_settle 0)" "" "workers left with --spare-workers 0 after their clients closed"
