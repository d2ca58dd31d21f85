#!/usr/bin/env bash
# A snapshot copy holds the store lock. One that goes on copying past
# --lock-timeout is left to finish, since a large store's copy may take
# seconds; a snapshot child stopped (SIGSTOP) in the middle of its copy is
# killed after --lock-timeout, as a worker would be, the client waiting
# behind it gets an answer, and the store is recovered with every key.
# SHMKVD_DEBUG_SNAPSHOT_COPY_PAUSE_MS makes each 8 MiB part of a copy take
# 300 ms more, holding the lock.
. "$(dirname "$0")/lib.sh"
SNAP=$WORK/state/shmkv.snap
mkdir -p "$WORK/state"
RESP=1
export SHMKVD_DEBUG_SNAPSHOT_COPY_PAUSE_MS=300

rcli() { timeout 20 redis-cli -p "$RESP_PORT" "$@" 2>&1 || true; }

start_daemon --debug-commands --snapshot "$SNAP" --snapshot-interval 0 --lock-timeout 1 --memory 128M
head -c 1048576 /dev/zero | tr '\0' v >"$WORK/value"
for i in $(seq 40); do rcli -x set "k$i" <"$WORK/value" >/dev/null; done
expect_eq "$(rcli dbsize)" 40 "keys loaded"

# 1. SAVE: 40 MiB is five parts or more, 1.5 s or more under the lock,
# well past --lock-timeout, yet never without progress for that long.
expect_eq "$(rcli save)" OK "SAVE of a copy that outlasts --lock-timeout"
held_us=$(grep -o 'store lock held [0-9]* us' "$DAEMON_LOG" | tail -n 1 | grep -o '[0-9]*')
[ "${held_us:-0}" -gt 1000000 ] || fail "the copy held the lock for only ${held_us:-no} us: the test proves nothing"
if grep -q 'killed' "$DAEMON_LOG"; then fail "a copy that was moving was killed: $(grep killed "$DAEMON_LOG")"; fi

# 2. BGSAVE, and its child stopped while it pauses between parts of its
# copy (in clock_nanosleep, system call 230: the writer, which also sleeps
# with the writer's hook, is another process, shmkvd-writer).
expect_eq "$(rcli bgsave)" "Background saving started" "BGSAVE"
child=
for i in $(seq 200); do
  child=$(pgrep -P "$DAEMON_PID" -x shmkvd-snapshot || true)
  if [ -n "$child" ] && [ "$(cut -d' ' -f1 "/proc/$child/syscall" 2>/dev/null)" = 230 ]; then break; fi
  child=
  sleep 0.02
done
[ -n "$child" ] || fail "no snapshot child pausing in its copy within 4 s"
kill -STOP "$child"
start=$(date +%s%N)
answer=$(rcli get k1 | head -c 64)
took_ms=$((($(date +%s%N) - start) / 1000000))
case "$answer" in
  "$(head -c 64 "$WORK/value")" | "ERR store unavailable: recovering, retry") ;;
  *) fail "GET behind the stopped snapshot child answered '$answer' after $took_ms ms" ;;
esac
[ "$took_ms" -lt 8000 ] || fail "GET behind the stopped snapshot child waited $took_ms ms"
grep -q "snapshot child $child held the store lock for [0-9.]* s: killed (--lock-timeout 1)" "$DAEMON_LOG" ||
  fail "the stopped snapshot child was not killed as a lock holder: $(tail -n 5 "$DAEMON_LOG")"
for i in $(seq 200); do grep -q "recovered after snapshot child $child" "$DAEMON_LOG" && break; sleep 0.05; done
grep -q "recovered after snapshot child $child killed by signal 9 (Killed) in the store: 40 keys" "$DAEMON_LOG" ||
  fail "the store was not recovered with its 40 keys: $(tail -n 5 "$DAEMON_LOG")"

# 3. Every key is there, whole, and the next save succeeds.
for i in $(seq 100); do [ "$(rcli dbsize)" = 40 ] && break; sleep 0.05; done
expect_eq "$(rcli dbsize)" 40 "keys after the recovery"
expect_eq "$(rcli strlen k40)" 1048576 "a value after the recovery"
expect_eq "$(rcli save)" OK "SAVE after the recovery"
echo PASS
