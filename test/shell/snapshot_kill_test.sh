#!/usr/bin/env bash
# A snapshot's writer or saver killed mid-write (SIGKILL, as the OOM killer
# sends): the previous snapshot stays byte for byte, the temporary file goes
# at once, SAVE answers an error (or, when the SAVE's own worker died, the
# client sees its connection close), STATS says why, the daemon serves on,
# and the next save succeeds. A writer or snapshot child stopped (SIGSTOP)
# is killed as one that would hold up every save and the shutdown.
# SHMKVD_DEBUG_SNAPSHOT_DELAY_MS holds each writer mid-file long enough to
# be killed or stopped there.
. "$(dirname "$0")/lib.sh"
SNAP=$WORK/state/shmkv.snap
mkdir -p "$WORK/state"
export SHMKVD_DEBUG_SNAPSHOT_DELAY_MS=1500

stat_field() {  # stat_field NAME: one field of STATS
  "$SHMKV" -p "$PORT" stats --json | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# wait_writer N: wait (at most 10 s) until the N-th writer since the daemon
# started (the log's first WRITERS_BEFORE are an earlier daemon's) is
# holding its file, and print its pid.
WRITERS_BEFORE=0
wait_writer() {
  local i line
  for i in $(seq 200); do
    line=$(grep 'snapshot writer [0-9]*: sleeping' "$DAEMON_LOG" | sed -n "$((WRITERS_BEFORE + $1))p")
    if [ -n "$line" ]; then
      sed -E 's/.*snapshot writer ([0-9]+): sleeping.*/\1/' <<<"$line"
      return 0
    fi
    sleep 0.05
  done
  fail "no snapshot writer number $1 within 10 s"
}

# temporaries [SAVER]: how many temporary files there are (of SAVER's saves).
temporaries() { ls -A "$WORK/state" | grep -c "^\.shmkv\.snap\.tmp-${1:-}" || true; }

# wait_no_temporaries SAVER: SAVER's temporary file goes within 2 s.
wait_no_temporaries() {
  local i
  for i in $(seq 40); do [ "$(temporaries "$1.")" = 0 ] && return 0; sleep 0.05; done
  fail "a temporary file was left: $(ls -A "$WORK/state")"
}

# save_in_background: SAVE on its own connection; its result in save.rc/out/err.
save_in_background() {
  ( rc=0; "$SHMKV" -p "$PORT" -t 30 call SAVE >"$WORK/save.out" 2>"$WORK/save.err" || rc=$?; echo "$rc" >"$WORK/save.rc" ) &
  SAVER=$!
}

start_daemon --debug-commands --snapshot "$SNAP" --snapshot-interval 0
for i in $(seq 100); do "$SHMKV" -p "$PORT" put "k$i" "$i"; done
run_cli -p "$PORT" call SAVE
expect_eq "$RC" 0 "the first SAVE ($ERR)"
wait_writer 1 >/dev/null
cp "$SNAP" "$WORK/good.snap"
"$SHMKV" -p "$PORT" put after:first:save '"x"'

# 1. The writer of a SAVE is killed: SAVE answers an error.
save_in_background
writer=$(wait_writer 2)
expect_eq "$(temporaries)" 1 "temporary files while the writer writes"
expect_eq "$(cat "/proc/$writer/oom_score_adj")" 1000 "the writer's oom_score_adj (the OOM killer's first choice)"
kill -KILL "$writer"
wait "$SAVER"
expect_eq "$(cat "$WORK/save.rc")" 3 "SAVE's exit status when its writer was killed ($(cat "$WORK/save.err"))"
grep -qF "SAVE failed, the previous snapshot is kept: snapshot writer $writer killed by signal 9 (Killed); its temporary file removed" "$WORK/save.err" ||
  fail "SAVE said: $(cat "$WORK/save.err")"
expect_eq "$(temporaries)" 0 "temporary files after the writer was killed"
cmp -s "$SNAP" "$WORK/good.snap" || fail "the previous snapshot changed"
expect_eq "$(stat_field snapshot_status)" "failed: snapshot writer $writer killed by signal 9 (Killed); its temporary file removed" "snapshot_status"
expect_eq "$("$SHMKV" -p "$PORT" get k42)" 42 "a GET after the failed SAVE"
[ "$(stat_field changes_since_save)" -gt 0 ] || fail "changes_since_save is 0 after a failed save"
run_cli -p "$PORT" call SAVE
expect_eq "$RC" 0 "the SAVE after a killed writer ($ERR)"
expect_eq "$(stat_field snapshot_status)" ok "snapshot_status after a good SAVE"
expect_eq "$(stat_field last_save_keys)" 101 "keys in the good SAVE"
cp "$SNAP" "$WORK/good.snap"

# 2. The worker answering SAVE (the saver) is killed: its writer dies with
# it, the parent removes the file and records why; the client sees its
# connection close.
"$SHMKV" -p "$PORT" put after:second:save '"y"'
save_in_background
writer=$(wait_writer 4)
worker=$(ps -o ppid= -p "$writer" | tr -d ' ')
[ -n "$worker" ] && [ "$worker" != "$DAEMON_PID" ] || fail "the saver of writer $writer: '$worker'"
kill -KILL "$worker"
wait "$SAVER"
[ "$(cat "$WORK/save.rc")" != 0 ] || fail "SAVE succeeded although its worker was killed"
grep -q "closed the connection" "$WORK/save.err" || fail "the SAVE client said: $(cat "$WORK/save.err")"
wait_no_temporaries "$worker"
for i in $(seq 40); do kill -0 "$writer" 2>/dev/null || break; sleep 0.05; done
kill -0 "$writer" 2>/dev/null && fail "writer $writer outlived its saver"
cmp -s "$SNAP" "$WORK/good.snap" || fail "the previous snapshot changed when its saver died"
expect_eq "$(stat_field snapshot_status)" "failed: worker $worker killed by signal 9 (Killed) while saving" "snapshot_status"
grep -q "worker $worker killed by signal 9 (Killed) while saving a snapshot; the previous snapshot is kept" "$DAEMON_LOG" ||
  fail "the saver's death was not logged"
expect_eq "$("$SHMKV" -p "$PORT" get after:second:save)" '"y"' "a GET after the saver died"
run_cli -p "$PORT" call SAVE
expect_eq "$RC" 0 "the SAVE after a killed saver ($ERR)"
expect_eq "$(stat_field snapshot_status)" ok "snapshot_status after a good SAVE"
stop_daemon
expect_eq "$DAEMON_STATUS" 0 "exit status after SIGTERM"
rm -f "/dev/shm/$NAME"
WRITERS_BEFORE=$(grep -c 'snapshot writer [0-9]*: sleeping' "$DAEMON_LOG")

# 3. The interval's snapshot child: its writer killed, then the child
# itself; each time the next interval's snapshot succeeds.
start_daemon --debug-commands --snapshot "$SNAP" --snapshot-interval 1
cp "$SNAP" "$WORK/good.snap"
"$SHMKV" -p "$PORT" put interval:1 1
writer=$(wait_writer 1)
child=$(ps -o ppid= -p "$writer" | tr -d ' ')
expect_eq "$(temporaries "$child.")" 1 "temporary files while the interval's writer writes"
kill -KILL "$writer"
for i in $(seq 100); do grep -q "snapshot writer $writer killed" <<<"$(stat_field snapshot_status)" && break; sleep 0.05; done
expect_eq "$(stat_field snapshot_status)" "failed: snapshot writer $writer killed by signal 9 (Killed); its temporary file removed" "snapshot_status after the interval's writer was killed"
# (The next interval's child may have begun its own file meanwhile.)
expect_eq "$(temporaries "$child.")" 0 "temporary files after the interval's writer was killed"
cmp -s "$SNAP" "$WORK/good.snap" || fail "the previous snapshot changed"
child=$(ps -o ppid= -p "$(wait_writer 2)" | tr -d ' ')
kill -KILL "$child"
for i in $(seq 100); do grep -q "snapshot child $child killed" <<<"$(stat_field snapshot_status)" && break; sleep 0.05; done
expect_eq "$(stat_field snapshot_status)" "failed: snapshot child $child killed by signal 9 (Killed)" "snapshot_status after the snapshot child was killed"
wait_no_temporaries "$child"
cmp -s "$SNAP" "$WORK/good.snap" || fail "the previous snapshot changed when the snapshot child died"
wait_writer 3 >/dev/null
for i in $(seq 100); do [ "$(stat_field snapshot_status)" = ok ] && break; sleep 0.1; done
expect_eq "$(stat_field snapshot_status)" ok "snapshot_status after the next interval"
expect_eq "$(stat_field changes_since_save)" 0 "changes_since_save after the next interval"
expect_eq "$(stat_field last_save_keys)" 103 "keys in the interval's snapshot"
expect_eq "$("$SHMKV" -p "$PORT" get interval:1)" 1 "a GET at the end"
stop_daemon
rm -f "/dev/shm/$NAME"
WRITERS_BEFORE=$(grep -c 'snapshot writer [0-9]*: sleeping' "$DAEMON_LOG")

# 4. A SAVE's writer stopped mid-file: its saver kills it within a second
# or so, and SAVE answers an error; the next SAVE is not held up.
RESP=1 start_daemon --debug-commands --snapshot "$SNAP" --snapshot-interval 0
"$SHMKV" -p "$PORT" put stop:1 1
save_in_background
writer=$(wait_writer 1)
kill -STOP "$writer"
wait "$SAVER"
expect_eq "$(cat "$WORK/save.rc")" 3 "SAVE's exit status when its writer was stopped ($(cat "$WORK/save.err"))"
grep -qF "snapshot writer $writer killed by signal 9 (Killed)" "$WORK/save.err" || fail "SAVE said: $(cat "$WORK/save.err")"
grep -q "snapshot writer $writer stopped by signal 19 (.*): killed, as it would hold up every save" "$DAEMON_LOG" ||
  fail "the stopped writer's kill was not logged"
run_cli -p "$PORT" call SAVE
expect_eq "$RC" 0 "the SAVE after a stopped writer ($ERR)"

# 5. BGSAVE's snapshot child stopped while its writer writes (outside the
# store): the parent kills it, and the save fails.
expect_eq "$(redis-cli -p "$RESP_PORT" bgsave)" "Background saving started" "BGSAVE"
child=$(ps -o ppid= -p "$(wait_writer 3)" | tr -d ' ')
kill -STOP "$child"
for i in $(seq 100); do grep -q "snapshot child $child killed" <<<"$(stat_field snapshot_status)" && break; sleep 0.05; done
expect_eq "$(stat_field snapshot_status)" "failed: snapshot child $child killed by signal 9 (Killed)" "snapshot_status after the snapshot child was stopped"
grep -q "snapshot child $child stopped: killed, as it would hold up every save and the shutdown" "$DAEMON_LOG" ||
  fail "the stopped snapshot child's kill was not logged"
wait_no_temporaries "$child"

# 6. SIGTERM, and the last snapshot's child stopped: shmkvd still exits,
# within the writer's delay and a second or so, not when someone continues it.
kill -TERM "$DAEMON_PID"
child=$(ps -o ppid= -p "$(wait_writer 4)" | tr -d ' ')
kill -STOP "$child"
for i in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "shmkvd did not exit within 5 s of its last snapshot's child stopping"
wait "$DAEMON_PID" || true
DAEMON_PID=
grep -q "snapshot child $child stopped: killed" "$DAEMON_LOG" || fail "the last snapshot's stopped child was not killed"
echo PASS
