#!/usr/bin/env bash
# Monitoring: Prometheus's redis_exporter scrapes shmkvd's RESP port (INFO,
# CONFIG GET and friends): redis_up is 1 and redis_db_keys counts the keys,
# including those written over JSON.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon
command -v prometheus-redis-exporter >/dev/null || fail "prometheus-redis-exporter is not installed (make deps installs it)"

timeout 10 redis-cli -p "$RESP_PORT" mset a 1 b 2 c 3 >/dev/null
"$SHMKV" -p "$PORT" put j '{"x": 1}' >/dev/null

WEB=$(free_port)
prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$RESP_PORT" -web.listen-address "127.0.0.1:$WEB" \
    >"$WORK/exporter.log" 2>&1 &
HELPER_PIDS+=($!)
for i in $(seq 200); do
  python3 - "$WEB" >"$WORK/metrics" 2>/dev/null <<'PY' && grep -q '^redis_up ' "$WORK/metrics" && break
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode())
PY
  [ "$i" -lt 200 ] || fail "no metrics from the exporter: $(tail -n 3 "$WORK/exporter.log")"
  sleep 0.05
done
expect_eq "$(grep '^redis_up ' "$WORK/metrics")" "redis_up 1" "redis_up"
expect_eq "$(grep '^redis_db_keys{db="db0"}' "$WORK/metrics")" 'redis_db_keys{db="db0"} 4' "redis_db_keys"
grep -q '^redis_memory_max_bytes 6.7108864e+07' "$WORK/metrics" ||
  fail "redis_memory_max_bytes is not the store's size: $(grep '^redis_memory_max' "$WORK/metrics")"
echo "ok resp_exporter"
