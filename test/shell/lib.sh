# Shared driver for the shell tests (sourced, not run). It starts build/shmkvd
# on a free loopback port with a segment of its own, waits for it in a bounded
# loop, and on exit, failure included, stops only the daemons it started and
# removes their segments. A failed test keeps the daemon's log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
SHMKVD=$ROOT/$BUILD/shmkvd
SHMKV=$ROOT/$BUILD/shmkv
WIRE=$ROOT/test/shell/wire.py
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shmkv-$TEST_NAME.XXXXXX")
NAME=shmkv-test-$$-$RANDOM
PORT=
RESP_PORT=
DAEMON_PID=
DAEMON_LOG=$WORK/daemon.log
HELPER_PIDS=()

cleanup() {
  local rc=$?
  stop_daemon || true
  stop_helpers
  # A sanitized daemon reports its findings in the log; any one fails the test.
  if [ -f "$DAEMON_LOG" ] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG"; then
    echo "FAIL: the sanitizers reported in the daemon's log:" >&2
    grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG" | head -40 >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  rm -f "/dev/shm/$NAME" "/dev/shm/$NAME".*  # and a salvage's or a load's scratch segment
  if [ "$rc" -ne 0 ] && [ -f "$DAEMON_LOG" ]; then
    mkdir -p "$ROOT/$BUILD/test-logs"
    cp "$DAEMON_LOG" "$ROOT/$BUILD/test-logs/$TEST_NAME.daemon.log"
    echo "daemon log kept in $BUILD/test-logs/$TEST_NAME.daemon.log"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
# A test stopped from outside (run-tests' timeout) still cleans up.
trap 'exit 143' TERM

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_daemon [OPTION...]: start shmkvd on a free port with this test's
# segment, and wait until it answers. A port taken in between is retried.
# With RESP=1 it speaks RESP too, on the free port RESP_PORT.
start_daemon() {
  local try resp=()
  for try in 1 2 3; do
    PORT=$(free_port)
    if [ "${RESP:-0}" = 1 ]; then RESP_PORT=$(free_port); resp=(--resp-port "$RESP_PORT"); fi
    "$SHMKVD" --bind 127.0.0.1 --port "$PORT" "${resp[@]}" --name "$NAME" "$@" 2>>"$DAEMON_LOG" &
    DAEMON_PID=$!
    if wait_ready; then return 0; fi
    if kill -0 "$DAEMON_PID" 2>/dev/null; then fail "shmkvd did not answer within 10 s"; fi
    wait "$DAEMON_PID" || true
    DAEMON_PID=
    grep -q 'Address already in use' "$DAEMON_LOG" || fail "shmkvd did not start: $(tail -n 3 "$DAEMON_LOG")"
  done
  fail "no free port after 3 tries"
}

# wait_ready polls the daemon (GET of an absent key: exit 1 means it answered)
# for at most 10 s, and fails early when the daemon has exited.
wait_ready() {
  local i rc
  for i in $(seq 200); do
    rc=0
    "$SHMKV" -p "$PORT" -t 1 get __shmkv_test_ping__ >/dev/null 2>&1 || rc=$?
    [ "$rc" -le 1 ] && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# stop_daemon sends SIGTERM and waits up to 15 s; sets DAEMON_STATUS.
stop_daemon() {
  DAEMON_STATUS=
  [ -n "$DAEMON_PID" ] || return 0
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  local i
  for i in $(seq 300); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    echo "shmkvd $DAEMON_PID ignored SIGTERM for 15 s; killing it and its workers" >&2
    pkill -KILL -P "$DAEMON_PID" 2>/dev/null || true
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  DAEMON_STATUS=0
  wait "$DAEMON_PID" || DAEMON_STATUS=$?
  DAEMON_PID=
}

# kill_daemon: SIGKILL the daemon (no last snapshot, nothing cleaned up), and
# wait up to 5 s for its workers, which leave when they see it gone.
kill_daemon() {
  local pids p i alive
  pids=$(pgrep -P "$DAEMON_PID" || true)
  kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
  for i in $(seq 100); do
    alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.05
  done
}

# start_helper READY COMMAND...: start a helper (such as a fake server) in the
# background and wait at most 10 s until it has written the file READY; it is
# killed when the test ends.
start_helper() {
  local ready=$1 i
  shift
  "$@" &
  HELPER_PIDS+=($!)
  for i in $(seq 200); do
    [ -s "$ready" ] && return 0
    kill -0 "${HELPER_PIDS[-1]}" 2>/dev/null || fail "helper '$*' exited before it was ready"
    sleep 0.05
  done
  fail "helper '$*' was not ready within 10 s"
}

stop_helpers() {
  local pid i
  for pid in "${HELPER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    # A helper that ignores SIGTERM for 5 s (strace caught early in its
    # start) is killed, so that no test waits for one forever.
    for i in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  HELPER_PIDS=()
}

# run_cli ARGS...: run shmkv with ARGS (and the caller's standard input); sets
# OUT, ERR and RC.
run_cli() {
  RC=0
  "$SHMKV" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}
