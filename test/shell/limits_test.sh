#!/usr/bin/env bash
# --max-children bounds the workers without dropping anybody; --idle-timeout
# closes idle connections.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"
start_daemon --max-children 4
python3 limits.py "$PORT" "$DAEMON_PID" 4
expect_eq "$(grep -c 'the --max-children limit' "$DAEMON_LOG")" 1 "limit warnings logged (at most once a minute)"
stop_daemon

start_daemon --idle-timeout 1
python3 - "$PORT" <<'PY'
import sys, time
from wire import check, closed_by_peer, connect
s = connect(int(sys.argv[1]))
s.settimeout(3)
start = time.time()
check(closed_by_peer(s), "idle connection still open after 3 s")
elapsed = time.time() - start
check(0.5 <= elapsed <= 3, f"closed after {elapsed:.2f} s with --idle-timeout 1")
print(f"idle connection closed after {elapsed:.2f} s")
PY
