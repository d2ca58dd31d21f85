#!/usr/bin/env bash
# Worker reuse: a pool of idle workers serves sequential connections;
# --spare-workers 0 forks per connection; killing or stopping idle workers
# loses no later connection; more concurrent connections than spares are all
# served; a connection silent past the deferred accept is served when it
# speaks; a worker that sleeps on a silent client, or retires, leaves another
# waiting for the next connection.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"

start_daemon --spare-workers 4
python3 pool.py "$PORT" "$DAEMON_PID" reuse
python3 pool.py "$PORT" "$DAEMON_PID" kill-idle
grep -q 'killed by signal 9 (Killed) while idle' "$DAEMON_LOG" || fail "idle worker's death not logged"
python3 pool.py "$PORT" "$DAEMON_PID" stop-idle
grep -q 'stopped while waiting for connections: killed' "$DAEMON_LOG" || fail "stopped idle worker not logged"
python3 pool.py "$PORT" "$DAEMON_PID" silent-holds-nobody
stop_daemon

start_daemon --spare-workers 4 --worker-max-connections 2
python3 pool.py "$PORT" "$DAEMON_PID" retire-passes-lead
stop_daemon

start_daemon --spare-workers 0
python3 pool.py "$PORT" "$DAEMON_PID" fresh
stop_daemon

start_daemon --spare-workers 2
python3 pool.py "$PORT" "$DAEMON_PID" concurrent
python3 pool.py "$PORT" "$DAEMON_PID" silent
