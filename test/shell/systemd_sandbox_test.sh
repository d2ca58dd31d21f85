#!/usr/bin/env bash
# The sandbox of examples/shmkvd.service, as far as it can be checked without
# systemd as PID 1 (which the test machines lack, so the unit itself is never
# started here): every system call shmkvd makes, from socket activation and
# readiness through pipelined requests, a crash in the store and its
# salvage, a slow client cut off, and a stop, is one that the unit's
# SystemCallFilter= lets through. make lint checks the rest offline
# (systemd-analyze verify, and systemd-analyze security at 1.2 or better).
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"
command -v strace >/dev/null || fail "strace is missing (make deps installs it)"
unit=$ROOT/examples/shmkvd.service

# The unit's filter: @system-service less @privileged and @resources, but
# for sched_setscheduler, as systemd-analyze expands the groups.
sed -n 's/^SystemCallFilter=//p' "$unit" > "$WORK/filter"
expect_eq "$(cat "$WORK/filter")" $'@system-service\n~@privileged @resources\nsched_setscheduler' \
  "the unit's SystemCallFilter= lines"
systemd-analyze syscall-filter > "$WORK/groups"
python3 - "$WORK/groups" > "$WORK/allowed" <<'PY'
import sys
groups, current = {}, None
for line in open(sys.argv[1]):
    if line.startswith("@"):  # a group; its members are indented
        current = groups.setdefault(line.split()[0], [])
    elif line.strip() and not line.strip().startswith("#") and current is not None:
        current.append(line.split()[0])
def expand(group):
    out = set()
    for name in groups[group]:
        out |= expand(name) if name.startswith("@") else {name}
    return out
print("\n".join(sorted(expand("@system-service") - expand("@privileged") - expand("@resources")
                      | {"sched_setscheduler"})))
PY
[ "$(wc -l < "$WORK/allowed")" -gt 100 ] || fail "systemd-analyze syscall-filter gave too few calls: $(head -3 "$WORK/allowed")"

# shmkvd under strace, started as shmkvd.socket starts it, and told to
# notify a socket of ours as systemd would be.
PORT=$(free_port)
NOTIFY_SOCKET=$WORK/notify strace -f -qq -o "$WORK/trace" \
  systemd-socket-activate -l "127.0.0.1:$PORT" "$SHMKVD" --name "$NAME" --debug-commands --request-timeout 1 \
  2>>"$DAEMON_LOG" &
TRACER=$!
HELPER_PIDS+=("$TRACER")
# strace forks short-lived children of its own first, to probe what ptrace
# can do: the daemon is the child that runs systemd-socket-activate (which
# then becomes shmkvd, the same pid). ps exits 1 while there is no child.
for i in $(seq 100); do
  DAEMON_PID=$( (ps -o pid=,comm= --ppid "$TRACER" || true) | awk '$2 ~ /^systemd-socket/ || $2 == "shmkvd" { print $1 }')
  [ -n "$DAEMON_PID" ] && break
  sleep 0.1
done
[ -n "$DAEMON_PID" ] || fail "no shmkvd under strace"
wait_ready || fail "shmkvd did not answer under strace: $(tail -n 3 "$DAEMON_LOG")"
"$ROOT/$BUILD/shmkv-bench" -p "$PORT" -c 4 -n 2000 -P 8 >/dev/null
"$SHMKV" -p "$PORT" keys >/dev/null
"$SHMKV" -p "$PORT" stats >/dev/null
python3 wire.py "$PORT" 2 '{"func": "DEBUG", "params": {"crash": "in_store"}}' >/dev/null 2>&1 || true
for i in $(seq 100); do grep -q 'rebuilt\|recovered' "$DAEMON_LOG" && break; sleep 0.1; done
python3 - "$PORT" <<'PY'
import sys, time
from wire import check, connect, recv_frame
with connect(int(sys.argv[1])) as s:
    s.sendall(b"\x02\x00")
    s.settimeout(5)
    check(b"request not complete" in recv_frame(s)[1], "the slow client was not cut off")
PY
"$SHMKV" -p "$PORT" put after '"crash"'
stop_daemon 2>/dev/null  # not our child: strace's, which exits with its status
rc=0
wait "$TRACER" || rc=$?
expect_eq "$rc" 0 "exit status of shmkvd under strace"

# The calls made after shmkvd was executed, by it and by every process it forked.
awk '/execve\(".*\/shmkvd"/ { on = 1 } on { sub(/^[0-9]+ +/, ""); if (match($0, /^[a-z_0-9]+\(/)) print substr($0, 1, RLENGTH - 1) }' \
  "$WORK/trace" | LC_ALL=C sort -u > "$WORK/used"
[ "$(wc -l < "$WORK/used")" -gt 30 ] || fail "too few system calls traced: $(tr '\n' ' ' < "$WORK/used")"
# flock: the parent's claim on the store; ioctl: a worker readying a
# connection for blocking reads (daemon/blocking_read).
grep -q '^flock$' "$WORK/used" && grep -q '^ioctl$' "$WORK/used" || fail "the trace missed calls shmkvd makes"
outside=$(LC_ALL=C comm -23 "$WORK/used" "$WORK/allowed" | tr '\n' ' ')
[ -z "$outside" ] || fail "shmkvd makes system calls that the unit's SystemCallFilter= forbids: $outside"
echo "$(wc -l < "$WORK/used") system calls traced, all within SystemCallFilter=@system-service ~@privileged @resources"
