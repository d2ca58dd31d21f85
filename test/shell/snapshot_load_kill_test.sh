#!/usr/bin/env bash
# A start killed while it loads the snapshot (SIGKILL, as the OOM killer
# sends) leaves no half-filled store: the next start removes the unfinished
# load and loads the snapshot again, every key, rather than keep part of it
# as a store newer than the snapshot (shmkvd(8), Snapshots).
. "$(dirname "$0")/lib.sh"
SNAP=$WORK/state/shmkv.snap
mkdir -p "$WORK/state"
KEYS=400000  # a load of some half a second: long enough to be killed in

start_daemon --memory 256M --snapshot "$SNAP" --snapshot-interval 0
"$ROOT/$BUILD/shmkv-bench" -p "$PORT" -r "$KEYS" -n "$KEYS" --sequential --get-ratio 0 -c 2 >/dev/null ||
  fail "loading $KEYS keys"
run_cli -p "$PORT" save
expect_eq "$RC" 0 "shmkv save's exit status ($ERR)"
stop_daemon
rm -f "/dev/shm/$NAME"  # as a reboot does

# Start again, and SIGKILL the daemon AFTER seconds after a segment for the
# store appears (0: as it is being made; 0.15: some keys in), before the
# log says the load is done. The next start has the snapshot's every key.
for after in 0 0.15; do
  "$SHMKVD" --bind 127.0.0.1 --port "$PORT" --name "$NAME" --memory 256M --snapshot "$SNAP" 2>"$WORK/killed.log" &
  LOADER=$!
  for i in $(seq 500); do
    compgen -G "/dev/shm/$NAME*" >/dev/null && break
    kill -0 "$LOADER" 2>/dev/null || fail "shmkvd exited before its load: $(tail -n 3 "$WORK/killed.log")"
    sleep 0.01
  done
  sleep "$after"
  kill -KILL "$LOADER"
  wait "$LOADER" || true
  if grep -q "loaded" "$WORK/killed.log"; then fail "the load ended within $after s; the test needs more keys"; fi

  : >"$DAEMON_LOG"
  start_daemon --memory 256M --snapshot "$SNAP"
  grep -q "removing $NAME.load, left by an earlier start that did not finish making the store" "$DAEMON_LOG" ||
    fail "killed $after s in: no line about the unfinished load: $(tail -n 3 "$DAEMON_LOG")"
  grep -q "loaded $KEYS keys from $SNAP" "$DAEMON_LOG" ||
    fail "killed $after s in: no 'loaded $KEYS keys' line: $(tail -n 3 "$DAEMON_LOG")"
  keys=$("$SHMKV" -p "$PORT" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["keys"])')
  expect_eq "$keys" "$KEYS" "keys after a start killed $after s into its load"
  run_cli -p "$PORT" get "$(printf "key:%012d" $((KEYS - 1)))"
  expect_eq "$RC" 0 "GET of the last key loaded ($ERR)"
  [ ! -e "/dev/shm/$NAME.load" ] || fail "the unfinished load's segment is still there"
  stop_daemon
  rm -f "/dev/shm/$NAME"  # the next round starts after a reboot again
done
echo "snapshot_load_kill: loads killed 0 and 0.15 s in; each next start loaded $keys keys; ok"
