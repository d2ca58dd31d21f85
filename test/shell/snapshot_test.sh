#!/usr/bin/env bash
# Snapshots (shmkvd --snapshot): the store survives a reboot (its segment
# removed) through SAVE and SIGTERM, and through the interval after a
# SIGKILL; a damaged snapshot stops shmkvd at start, untouched; a failed
# save (a full disk, a vanished directory) keeps the previous snapshot and
# the daemon serving.
. "$(dirname "$0")/lib.sh"
DATA="python3 $ROOT/test/shell/snapshot_data.py"
SNAP=$WORK/state/shmkv.snap
mkdir -p "$WORK/state"
MNT=
trap 'rc=$?; set +e; [ -z "$MNT" ] || umount "$MNT" 2>/dev/null || true; (exit $rc); cleanup' EXIT

stat_field() {  # stat_field NAME: one field of STATS
  "$SHMKV" -p "$PORT" stats --json | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# reboot: the segment goes, as /dev/shm does at a reboot.
reboot() {
  rm -f "/dev/shm/$NAME"
}

# 1. 50,000 keys, SAVE, one more PUT, SIGTERM, reboot: every key is back.
start_daemon --memory 256M --snapshot "$SNAP" --snapshot-interval 0
expect_eq "$(stat_field snapshot_status)" ok "snapshot_status before any save"
expect_eq "$(stat_field last_save)" 0 "last_save before any save"
$DATA load "$PORT" 50000 "$WORK/expected.json"
expect_eq "$(stat_field changes_since_save)" 50000 "changes_since_save after 50,000 PUTs"
run_cli -p "$PORT" save
expect_eq "$RC" 0 "shmkv save's exit status ($ERR)"
grep -q '^{"response": "ok", "keys": 50000, "bytes": [0-9]*, "ms": [0-9]*}$' <<<"$OUT" || fail "shmkv save printed $OUT"
expect_eq "$(stat -c %a "$SNAP")" 600 "the snapshot's mode"
expect_eq "$(stat_field last_save_keys)" 50000 "last_save_keys"
expect_eq "$(stat_field changes_since_save)" 0 "changes_since_save after SAVE"
[ "$(stat_field last_save)" -gt 0 ] || fail "last_save not set"
$DATA put "$PORT" "after:save" '{"written": "after SAVE"}' "$WORK/expected.json"
stop_daemon
expect_eq "$DAEMON_STATUS" 0 "exit status after SIGTERM"
grep -q "writing a last snapshot to $SNAP" "$DAEMON_LOG" || fail "no last snapshot at SIGTERM"
reboot
start_daemon --memory 256M --snapshot "$SNAP"
grep -q "loaded 50001 keys from $SNAP" "$DAEMON_LOG" || fail "no 'loaded 50001 keys' line: $(tail -n 3 "$DAEMON_LOG")"
$DATA check "$PORT" "$WORK/expected.json"

# A restart without a reboot keeps the segment, newer than the snapshot.
"$SHMKV" -p "$PORT" put only:in:segment 1
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
for i in $(seq 100); do fuser -s "/dev/shm/$NAME" 2>/dev/null || break; sleep 0.05; done
start_daemon --memory 256M --snapshot "$SNAP"
grep -q "store $NAME exists: kept, as it is newer than snapshot $SNAP" "$DAEMON_LOG" || fail "no 'kept' line"
expect_eq "$("$SHMKV" -p "$PORT" get only:in:segment)" 1 "a key only in the kept segment"
stop_daemon

# 2. The interval: a PUT, the interval passes, SIGKILL (no last snapshot),
# reboot: the PUT is there.
start_daemon --snapshot "$SNAP" --snapshot-interval 1
sleep 1.5  # an interval passes with nothing changed: nothing is written
expect_eq "$(stat_field last_save)" 0 "last_save after an interval without changes"
"$SHMKV" -p "$PORT" put periodic '"saved by the interval"'
for i in $(seq 100); do [ "$(stat_field changes_since_save)" = 0 ] && break; sleep 0.1; done
expect_eq "$(stat_field changes_since_save)" 0 "changes_since_save after the interval"
kill_daemon
reboot
start_daemon --snapshot "$SNAP"
expect_eq "$("$SHMKV" -p "$PORT" get periodic)" '"saved by the interval"' "the PUT saved by the interval"
stop_daemon

# 3. A damaged snapshot stops shmkvd at start, named, and is left untouched.
cp "$SNAP" "$WORK/good.snap"
size=$(stat -c %s "$SNAP")
for cut in 10 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$WORK/good.snap" > "$SNAP"
  cp "$SNAP" "$WORK/damaged.snap"
  reboot
  rc=0
  timeout 20 "$SHMKVD" --port "$(free_port)" --name "$NAME" --snapshot "$SNAP" 2>"$WORK/refused.log" || rc=$?
  expect_eq "$rc" 1 "exit status on a snapshot cut to $cut bytes"
  grep -q "snapshot $SNAP is damaged" "$WORK/refused.log" || fail "unclear refusal: $(cat "$WORK/refused.log")"
  grep -q "move it aside" "$WORK/refused.log" || fail "the refusal does not say what to do"
  cmp -s "$SNAP" "$WORK/damaged.snap" || fail "the damaged snapshot was changed"
  [ -e "/dev/shm/$NAME" ] && fail "a refused start left a segment behind"
done
cp "$WORK/good.snap" "$SNAP"

# 4. A temporary file an interrupted save left is removed at start.
echo half > "$WORK/state/.shmkv.snap.tmp-1234.deadbeef"
start_daemon --snapshot "$SNAP"
[ -e "$WORK/state/.shmkv.snap.tmp-1234.deadbeef" ] && fail "a stale temporary file was kept"
grep -q "removed 1 temporary snapshot files" "$DAEMON_LOG" || fail "its removal was not logged"

# 5. A vanished directory: SAVE fails, the daemon serves on.
stop_daemon
reboot
mkdir -p "$WORK/gone"
start_daemon --snapshot "$WORK/gone/s.snap" --snapshot-interval 0
"$SHMKV" -p "$PORT" put k 1
rm -rf "$WORK/gone"
run_cli -p "$PORT" call SAVE
expect_eq "$RC" 3 "SAVE's exit status with its directory gone"
grep -q "SAVE failed, the previous snapshot is kept: create $WORK/gone/" <<<"$ERR" || fail "SAVE said: $ERR"
grep -q "^failed: create $WORK/gone/" <<<"$(stat_field snapshot_status)" || fail "snapshot_status: $(stat_field snapshot_status)"
expect_eq "$("$SHMKV" -p "$PORT" get k)" 1 "GET after a failed SAVE"
stop_daemon
reboot

# 6. A full disk: a 64 KiB tmpfs holds a first snapshot but not a bigger one.
if [ "$(id -u)" = 0 ] && mkdir -p "$WORK/full" && mount -t tmpfs -o size=64k,mode=0700 tmpfs "$WORK/full" 2>/dev/null; then
  MNT=$WORK/full
  start_daemon --snapshot "$MNT/s.snap" --snapshot-interval 0
  "$SHMKV" -p "$PORT" put small '"fits"'
  run_cli -p "$PORT" call SAVE
  expect_eq "$RC" 0 "the first SAVE on the small disk ($ERR)"
  cp "$MNT/s.snap" "$WORK/small.snap"
  for i in $(seq 20); do "$SHMKV" -p "$PORT" put "big$i" "\"$(head -c 8000 /dev/zero | tr '\0' x)\""; done
  run_cli -p "$PORT" call SAVE
  expect_eq "$RC" 3 "SAVE's exit status on a full disk"
  grep -q "No space left on device" <<<"$ERR" || fail "SAVE on a full disk said: $ERR"
  cmp -s "$MNT/s.snap" "$WORK/small.snap" || fail "the previous snapshot changed"
  expect_eq "$(ls -A "$MNT")" s.snap "files on the full disk"
  expect_eq "$("$SHMKV" -p "$PORT" get small)" '"fits"' "GET after a failed SAVE"
  # At SIGTERM the last snapshot fails the same way: logged, old one kept.
  stop_daemon
  expect_eq "$DAEMON_STATUS" 0 "exit status after a failed last snapshot"
  cmp -s "$MNT/s.snap" "$WORK/small.snap" || fail "the failed last snapshot changed the previous one"
  umount "$MNT"; MNT=
else
  echo "SKIP the full-disk case: mounting a tmpfs needs root"
fi
echo "PASS"
