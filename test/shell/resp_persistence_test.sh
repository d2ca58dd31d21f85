#!/usr/bin/env bash
# Snapshots over RESP, with redis-cli: every RESP write counts as a change
# (STATS changes_since_save, INFO rdb_changes_since_last_save), so the
# interval saves what RESP wrote; SAVE, BGSAVE and LASTSAVE answer as Redis
# does, and INFO persistence reflects the snapshot; without --snapshot, SAVE
# and BGSAVE are errors.
. "$(dirname "$0")/lib.sh"
SNAP=$WORK/state/shmkv.snap
mkdir -p "$WORK/state"
RESP=1

stat_field() {  # stat_field NAME: one field of STATS
  "$SHMKV" -p "$PORT" stats --json | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}
rcli() { redis-cli -p "$RESP_PORT" "$@" 2>&1 || true; }
info_field() { rcli info persistence | tr -d '\r' | sed -n "s/^$1://p"; }

# kill_and_reboot: SIGKILL (no last snapshot), the segment gone as at a reboot.
kill_and_reboot() {
  kill_daemon
  rm -f "/dev/shm/$NAME"
}

# 1. Each write, and how many changes it makes.
start_daemon --snapshot "$SNAP" --snapshot-interval 0
expect_eq "$(stat_field changes_since_save)" 0 "changes at start"
expect_changes() {  # expect_changes N COMMAND...: COMMAND adds N changes
  local n=$1 before after
  shift
  before=$(stat_field changes_since_save)
  rcli "$@" >/dev/null
  after=$(stat_field changes_since_save)
  expect_eq "$((after - before))" "$n" "changes made by $*"
}
expect_changes 1 set a 1
expect_changes 1 set a 2 ex 100 get
expect_changes 0 set a 3 nx
expect_changes 2 mset b 1 c 2
expect_changes 1 append b x
expect_changes 1 getset b y
expect_changes 1 incr n
expect_changes 1 decrby n 5
expect_changes 1 pexpire n 100000
expect_changes 1 persist n
expect_changes 0 persist n
expect_changes 1 getdel c
expect_changes 2 del a b
expect_changes 0 get n
expect_changes 1 flushall
expect_eq "$(info_field rdb_changes_since_last_save)" "$(stat_field changes_since_save)" "INFO's changes"

# 2. SAVE and LASTSAVE; INFO persistence after them.
started=$(rcli lastsave)
[ "$started" -gt 1600000000 ] || fail "LASTSAVE before any save: $started"
expect_eq "$(info_field rdb_last_save_time)" "$started" "rdb_last_save_time before any save"
rcli set saved:by save >/dev/null
sleep 1.1  # LASTSAVE counts seconds: the save must show as a later one
expect_eq "$(rcli save)" OK "SAVE"
[ -s "$SNAP" ] || fail "SAVE wrote no snapshot"
last=$(rcli lastsave)
expect_eq "$last" "$(stat_field last_save)" "LASTSAVE"
[ "$last" -gt "$started" ] || fail "LASTSAVE did not move on: $last"
expect_eq "$(info_field rdb_changes_since_last_save)" 0 "rdb_changes_since_last_save after SAVE"
expect_eq "$(info_field rdb_last_save_time)" "$last" "rdb_last_save_time after SAVE"
expect_eq "$(info_field rdb_last_bgsave_status)" ok "rdb_last_bgsave_status"
expect_eq "$(info_field rdb_bgsave_in_progress)" 0 "rdb_bgsave_in_progress"

# 3. BGSAVE answers at once; the snapshot child writes what was there.
rcli set saved:by bgsave >/dev/null
expect_eq "$(rcli bgsave)" "Background saving started" "BGSAVE"
for i in $(seq 100); do [ "$(stat_field changes_since_save)" = 0 ] && break; sleep 0.05; done
expect_eq "$(stat_field changes_since_save)" 0 "changes after BGSAVE"
for i in $(seq 100); do [ "$(info_field rdb_bgsave_in_progress)" = 0 ] && break; sleep 0.05; done
expect_eq "$(rcli bgsave foo)" "ERR syntax error" "BGSAVE with a bad argument"
kill_and_reboot
start_daemon --snapshot "$SNAP" --snapshot-interval 0
expect_eq "$(rcli get saved:by)" bgsave "the key BGSAVE saved, after a reboot"

# 4. The interval saves a RESP SET.
stop_daemon
start_daemon --snapshot "$SNAP" --snapshot-interval 1
rcli set periodic:resp '"by the interval"' >/dev/null
for i in $(seq 100); do [ "$(stat_field changes_since_save)" = 0 ] && break; sleep 0.1; done
expect_eq "$(stat_field changes_since_save)" 0 "changes_since_save after the interval"
expect_eq "$(rcli config get save | tail -n 1)" "1 1" "CONFIG GET save"
kill_and_reboot
start_daemon --snapshot "$SNAP"
expect_eq "$(rcli get periodic:resp)" '"by the interval"' "the RESP SET saved by the interval"
stop_daemon

# 5. Without --snapshot: SAVE and BGSAVE are errors, LASTSAVE the start.
rm -f "/dev/shm/$NAME"
start_daemon
expect_eq "$(rcli save)" "ERR snapshots are off: start shmkvd with --snapshot PATH" "SAVE without --snapshot"
expect_eq "$(rcli bgsave)" "ERR snapshots are off: start shmkvd with --snapshot PATH" "BGSAVE without --snapshot"
last=$(rcli lastsave)
[ "$last" -gt 1600000000 ] || fail "LASTSAVE without --snapshot: $last"
expect_eq "$(rcli config get save | tail -n 1)" "" "CONFIG GET save without --snapshot"
expect_eq "$(rcli ping)" PONG "PING after the errors"
echo PASS
