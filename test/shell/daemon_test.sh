#!/usr/bin/env bash
# Classic daemon mode and store administration: --daemonize with --pidfile,
# one daemon per store, --remove-store.
. "$(dirname "$0")/lib.sh"
pidfile=$WORK/shmkvd.pid
PORT=$(free_port)

# The starting process returns only once the daemon serves.
"$SHMKVD" --daemonize --pidfile "$pidfile" --port "$PORT" --name "$NAME"
pid=$(cat "$pidfile")
DAEMON_PID=$pid  # ours: the pidfile names the daemon this test started
[ "$(ps -o comm= -p "$pid")" = shmkvd ] || fail "pidfile holds $pid, which is not shmkvd"
[ "$(ps -o sid= -p "$pid")" != "$(ps -o sid= -p $$)" ] || fail "the daemon stayed in the test's session"
[ "$(ps -o tty= -p "$pid" | tr -d ' ')" = "?" ] || fail "the daemon kept a controlling terminal"
expect_eq "$(readlink "/proc/$pid/cwd")" / "the daemon's working directory"
"$SHMKV" -p "$PORT" put daemon '"detached"'
expect_eq "$("$SHMKV" -p "$PORT" get daemon)" '"detached"' "GET from the detached daemon"

# A second start with the same pidfile is refused, naming the running pid.
rc=0
"$SHMKVD" --daemonize --pidfile "$pidfile" --port "$(free_port)" --name "$NAME-2" 2>"$WORK/second.log" || rc=$?
expect_eq "$rc" 1 "second start with a live pidfile"
grep -q "already running as pid $pid" "$WORK/second.log" || fail "unclear: $(cat "$WORK/second.log")"
rm -f "/dev/shm/$NAME-2"

# A second daemon on the same store is refused, even without a pidfile.
rc=0
"$SHMKVD" --port "$(free_port)" --name "$NAME" 2>"$WORK/third.log" || rc=$?
expect_eq "$rc" 1 "second daemon on a served store"
grep -q "store $NAME is already served by shmkvd pid $pid" "$WORK/third.log" || fail "unclear: $(cat "$WORK/third.log")"
# ... and so is removing it.
rc=0
"$SHMKVD" --remove-store --name "$NAME" 2>"$WORK/remove.log" || rc=$?
expect_eq "$rc" 1 "--remove-store of a served store"
[ -e "/dev/shm/$NAME" ] || fail "a served store was removed"

# SIGTERM: the daemon exits and removes its pidfile.
kill -TERM "$pid"
for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "daemon still running 10 s after SIGTERM"
DAEMON_PID=
[ -e "$pidfile" ] && fail "pidfile left after exit"

# A stale pidfile (its daemon gone, say after a crash) is taken over.
echo 999999 > "$pidfile"
"$SHMKVD" --daemonize --pidfile "$pidfile" --port "$PORT" --name "$NAME"
pid=$(cat "$pidfile")
DAEMON_PID=$pid
expect_eq "$("$SHMKV" -p "$PORT" get daemon)" '"detached"' "the data after a restart over a stale pidfile"
kill -TERM "$pid"
for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
DAEMON_PID=

# Once stopped, the store can be removed; removing it again says so.
"$SHMKVD" --remove-store --name "$NAME" 2>"$WORK/remove.log"
[ -e "/dev/shm/$NAME" ] && fail "store not removed"
rc=0
"$SHMKVD" --remove-store --name "$NAME" 2>"$WORK/remove.log" || rc=$?
expect_eq "$rc" 1 "--remove-store of a missing store"
grep -q "no shared memory segment $NAME" "$WORK/remove.log" || fail "unclear: $(cat "$WORK/remove.log")"
