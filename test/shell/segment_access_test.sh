#!/usr/bin/env bash
# The segment's mode and group (--segment-mode, --segment-group): a chosen
# group of local users may read the segment, with shmkv --local too, nobody
# else may (a reader gets EACCES and says what to change), and no other
# user may ever write it; a recovery's fresh segment gets the same access
# before it takes the old one's place; a segment opened wider than asked is
# refused at start. The other users are Debian's own nobody and nogroup.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root to act as another user"; exit 0; }
as_reader() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_stranger() { setpriv --reuid=nobody --regid=daemon --clear-groups -- "$@"; }
SEGMENT=/dev/shm/$NAME
cd "$ROOT/test/shell"

# The default: the daemon's user alone.
start_daemon
"$SHMKV" -p "$PORT" put k '"v"' >/dev/null
expect_eq "$(stat -c '%a' "$SEGMENT")" 600 "the default mode"
as_reader head -c 8 "$SEGMENT" >/dev/null 2>&1 && fail "another user read a 0600 segment"
rc=0
as_reader "$SHMKV" --local "$NAME" get k >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -gt 1 ] || fail "a local reader without permission exited $rc: $(cat "$WORK/out")"
grep -q "Permission denied: its mode and group (shmkvd --segment-mode, --segment-group) must let this user read it" \
  "$WORK/err" || fail "unclear refusal of a local reader: $(cat "$WORK/err")"
stop_daemon
"$SHMKVD" --name "$NAME" --remove-store 2>/dev/null

# 0640 and a group: its members read, others do not, and nobody writes.
start_daemon --segment-mode 0640 --segment-group nogroup --debug-commands
"$SHMKV" -p "$PORT" put k '"v"' >/dev/null
expect_eq "$(stat -c '%a %G' "$SEGMENT")" "640 nogroup" "mode and group of a new segment"
as_reader head -c 8 "$SEGMENT" >/dev/null || fail "a member of the segment's group could not read it"
as_reader sh -c "printf x >> '$SEGMENT'" 2>/dev/null && fail "a member of the segment's group wrote to it"
as_stranger head -c 8 "$SEGMENT" >/dev/null 2>&1 && fail "a user outside the segment's group read it"
expect_eq "$(as_reader "$SHMKV" --local "$NAME" get k)" '"v"' "a local reader in the segment's group"
as_stranger "$SHMKV" --local "$NAME" get k >/dev/null 2>&1 && fail "a local reader outside the segment's group read k"

# A recovery's fresh segment has the same access.
before=$(stat -c '%i' "$SEGMENT")
python3 wire.py "$PORT" 2 '{"func": "DEBUG", "params": {"crash": "in_store"}}' >/dev/null 2>&1 || true
for _ in $(seq 200); do grep -q "store $NAME recovered" "$DAEMON_LOG" && break; sleep 0.05; done
grep -q "store $NAME recovered" "$DAEMON_LOG" || fail "no recovery within 10 s"
[ "$(stat -c '%i' "$SEGMENT")" != "$before" ] || fail "the recovery did not make a fresh segment"
expect_eq "$(stat -c '%a %G' "$SEGMENT")" "640 nogroup" "mode and group after a recovery"
expect_eq "$("$SHMKV" -p "$PORT" get k)" '"v"' "the key after the recovery"
expect_eq "$(as_reader "$SHMKV" --local "$NAME" get k)" '"v"' "a local reader in the group after the recovery"
stop_daemon

# Restarted without the options, the daemon refuses a segment open to more
# users than it was asked for, and says how to go on.
rc=0
"$SHMKVD" --bind 127.0.0.1 --port "$(free_port)" --name "$NAME" 2>"$WORK/refused.log" || rc=$?
expect_eq "$rc" 1 "exit status with a segment wider than --segment-mode"
grep -q "with mode 0640 and group nogroup .*--segment-mode" "$WORK/refused.log" ||
  fail "unclear refusal: $(cat "$WORK/refused.log")"
start_daemon --segment-mode 0640 --segment-group nogroup
expect_eq "$("$SHMKV" -p "$PORT" get k)" '"v"' "the key after a restart with the same access"
stop_daemon

# Options that would let another user write, or name no group, are usage errors.
for bad in 0660 0666 0700 0400 644x; do
  rc=0
  "$SHMKVD" --name "$NAME" --segment-mode "$bad" 2>"$WORK/usage.log" || rc=$?
  expect_eq "$rc" 2 "exit status of --segment-mode $bad"
  grep -q "segment-mode takes 0600, 0640, 0604 or 0644" "$WORK/usage.log" || fail "--segment-mode $bad: $(cat "$WORK/usage.log")"
done
rc=0
"$SHMKVD" --name "$NAME" --segment-group no-such-group-here 2>"$WORK/usage.log" || rc=$?
expect_eq "$rc" 2 "exit status of an unknown --segment-group"
echo "segment access: 0600 by default, 0640 to nogroup kept through a recovery, wider segments refused"
