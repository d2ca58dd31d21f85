#!/usr/bin/env bash
# RESP parity with Redis 7.0 (shmkv-protocol(7) RESP): resp_parity.py sends the
# same bytes to shmkvd and to a redis-server started here, and fails on any
# reply that differs, except the documented differences it allows (ALLOWED).
. "$(dirname "$0")/lib.sh"
REDIS_PID=
trap 'rc=$?; set +e; [ -z "$REDIS_PID" ] || { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }; (exit $rc); cleanup' EXIT

# The limits the cases expect: arguments up to 1M (--max-message), SAVE that
# writes a snapshot, and CONFIG GET save empty, as Redis's --save ''.
RESP=1 start_daemon --max-message 1M --snapshot "$WORK/snapshot" --snapshot-interval 0

# A redis-server of our own on a free loopback port, in its own directory.
mkdir -p "$WORK/redis"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for i in $(seq 100); do
  timeout 2 redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break
  kill -0 "$REDIS_PID" 2>/dev/null || fail "redis-server did not start: $(tail -n 3 "$WORK/redis.log")"
  sleep 0.05
done
timeout 2 redis-cli -p "$RPORT" ping >/dev/null 2>&1 || fail "redis-server did not answer within 5 s"

timeout 50 python3 "$ROOT/test/shell/resp_parity.py" --shmkvd "127.0.0.1:$RESP_PORT" --redis "127.0.0.1:$RPORT" >"$WORK/parity" 2>&1 ||
  fail "RESP replies differ from Redis 7.0's (exit $?):
$(head -c 20000 "$WORK/parity")"
tail -n 1 "$WORK/parity"
echo "ok resp_parity"
