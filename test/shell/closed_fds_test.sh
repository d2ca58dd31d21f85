#!/usr/bin/env bash
# shmkvd started with its standard descriptors closed (cmd <&- >&- 2>&-)
# opens /dev/null on them first: neither a listening socket nor a client's
# connection takes 0, 1 or 2, so no log line is written into a connection
# and no client's bytes are read as anything else.
. "$(dirname "$0")/lib.sh"
PORT=$(free_port)
"$SHMKVD" --bind 127.0.0.1 --port "$PORT" --name "$NAME" --log-level debug --spare-workers 1 <&- >&- 2>&- &
DAEMON_PID=$!
wait_ready || fail "shmkvd with closed standard descriptors did not answer"

# Every process of the daemon has /dev/null on 0, 1 and 2.
for pid in "$DAEMON_PID" $(pgrep -P "$DAEMON_PID"); do
  for fd in 0 1 2; do
    expect_eq "$(readlink "/proc/$pid/fd/$fd")" /dev/null "descriptor $fd of process $pid"
  done
done

# Requests on a few connections (the debug log writes a line for each)
# get exactly their replies.
cd "$ROOT/test/shell"
python3 - "$PORT" <<'PY'
import json, sys
from wire import call, check
port = int(sys.argv[1])
for i in range(5):
    reply = call(port, json.dumps({"func": "PUT", "params": {"obj": f"k{i}", "val": i}}))
    check(reply == {"status": "OK", "response": {"func": "PUT", "response": {"obj": f"k{i}", "response": "ok"}}},
          f"PUT {i}: {reply}")
    reply = call(port, json.dumps({"func": "GET", "params": {"obj": f"k{i}"}}))
    check(reply["response"]["response"] == {"obj": f"k{i}", "val": i}, f"GET {i}: {reply}")
PY
echo PASS
