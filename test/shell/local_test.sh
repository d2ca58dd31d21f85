#!/usr/bin/env bash
# Local readers (shmkv-protocol(7), Local readers): shmkv --local, a C program
# and examples/local_reader.py read the segment directly and agree with the
# daemon; a RESP value reads back as bytes, exactly; an expired key is not
# found; a read answers while another connection holds the store lock; a
# reader open across a recovery reads a key written after it; readers killed
# or stopped during heavy writes change nothing for the daemon.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --debug-commands
cd "$ROOT"
LOCAL_READER=examples/local_reader.py

# The C ABI is C: compile a C program against the header and the library.
cc -std=c99 -Wall -Wextra -Wpedantic -Werror -Iinclude -o "$WORK/c_reader" test/shell/local_c_reader.c \
  -L"$BUILD" -lshmkv -Wl,-rpath,"$ROOT/$BUILD"

# 1. What the daemon answers, the local reader answers.
"$SHMKV" -p "$PORT" put colour '"blue"'
"$SHMKV" -p "$PORT" put obj '{"a": [1, 2.50, "x"], "b": null}'
"$SHMKV" -p "$PORT" put --string text 'snøw ☃ "quoted"'
"$SHMKV" -p "$PORT" put nothing null
"$SHMKV" -p "$PORT" put -- -dash 1
printf 'h\xc3\xa9' >"$WORK/utf8"
printf 'a\x00b\xff\r\n' >"$WORK/binary"
redis-cli -p "$RESP_PORT" -x set utf8 <"$WORK/utf8" >/dev/null
redis-cli -p "$RESP_PORT" -x set binary <"$WORK/binary" >/dev/null
for key in colour obj text nothing -dash utf8 absent; do
  for raw in "" -r; do
    run_cli -p "$PORT" get $raw -- "$key"
    net_out=$OUT net_rc=$RC
    run_cli --local "$NAME" get $raw -- "$key"
    expect_eq "$OUT" "$net_out" "--local get $raw $key: output"
    expect_eq "$RC" "$net_rc" "--local get $raw $key: exit status"
  done
done
run_cli --local "$NAME" get absent
expect_eq "$ERR" 'shmkv: "absent" is not set' "--local get of an absent key: stderr"
# Bytes read back exactly, as bytes (kind 1), through each reader.
"$SHMKV" --local "$NAME" get -r binary >"$WORK/got"
printf '\n' >>"$WORK/binary"  # get prints a newline after the value
cmp "$WORK/got" "$WORK/binary" || fail "--local get -r binary: not the bytes SET stored"
run_cli --local "$NAME" get binary
expect_eq "$RC" 3 "--local get of a binary value without -r: exit status"
expect_eq "$ERR" 'shmkv: the value of "binary" is binary: print its bytes with get -r' "binary value without -r"
expect_eq "$("$WORK/c_reader" "$NAME" binary utf8 colour absent)" "binary bytes 610062ff0d0a
utf8 bytes 68c3a9
colour json 22626c756522
absent not found" "the C program"
expect_eq "$(python3 "$LOCAL_READER" "$NAME" colour binary obj)" "colour (json): \"blue\"
binary (bytes): b'a\\x00b\\xff\\r\\n'
obj (json): {\"a\": [1, 2.50, \"x\"], \"b\": null}" "local_reader.py"
for prefix in "" c "-" nope; do
  run_cli -p "$PORT" keys "$prefix"
  net_out=$OUT
  run_cli --local "$NAME" keys "$prefix"
  expect_eq "$RC" 0 "--local keys '$prefix': exit status"
  expect_eq "$OUT" "$net_out" "--local keys '$prefix'"
done
# Keys enough to grow the index, some written while readers read them.
"$ROOT/$BUILD/shmkv-bench" -p "$PORT" -c 2 -n 20000 -r 5000 --sequential --get-ratio 0 >/dev/null
run_cli -p "$PORT" keys key:
net_keys=$OUT
run_cli --local "$NAME" keys key:
expect_eq "$(wc -l <<<"$OUT")" 5000 "--local keys after 5000 PUTs"
expect_eq "$OUT" "$net_keys" "--local keys after 5000 PUTs, against the daemon's"

# 2. Errors say what to do.
run_cli --local "$NAME-absent" get colour
expect_eq "$RC" 3 "--local of a missing segment: exit status"
expect_eq "$ERR" "shmkv: no shared memory segment /dev/shm/$NAME-absent: is shmkvd --name $NAME-absent running?" \
  "--local of a missing segment: stderr"
run_cli --local "$NAME" put colour 1
expect_eq "$RC" 2 "--local put: exit status"
run_cli --local "$NAME" -p "$PORT" get colour
expect_eq "$RC" 2 "--local with -p: exit status"
run_cli --local "$NAME" get colour
expect_eq "$OUT" '"blue"' "--local still reads after the usage errors"

# 3. An expired key is not found, nor listed.
"$SHMKV" -p "$PORT" put --ttl 0.5 soon '"going"'
run_cli --local "$NAME" get soon
expect_eq "$OUT" '"going"' "--local get before the expiry"
sleep 0.6
run_cli --local "$NAME" get soon
expect_eq "$RC" 1 "--local get after the expiry"
run_cli --local "$NAME" keys so
expect_eq "$OUT" "" "--local keys after the expiry"
expect_eq "$(python3 "$LOCAL_READER" "$NAME" soon)" "soon: not found" "local_reader.py after the expiry"

# 4. A read answers while another connection holds the store lock: a
# networked GET sent before the local reads is still unanswered (the lock is
# held), and the holder's reply (sent when the hold ends) has not come when
# the reads are done: they fell inside one hold.
python3 - "$PORT" "$SHMKV" "$NAME" <<'EOF'
import json, select, subprocess, sys, time
sys.path.insert(0, "test/shell")
from wire import check, connect, frame, recv_frame
port, shmkv, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
holder = connect(port)
holder.sendall(frame(2, '{"func": "DEBUG", "params": {"hold_lock_ms": 4000}}'))
time.sleep(0.3)  # the worker takes the lock
waiter = connect(port)
waiter.sendall(frame(2, '{"func": "GET", "params": {"obj": "colour"}}'))
check(not select.select([waiter], [], [], 0.3)[0], "a networked GET was answered: the lock was not held")
got = subprocess.run([shmkv, "--local", name, "get", "colour"], capture_output=True, timeout=10)
keys = subprocess.run([shmkv, "--local", name, "keys", "col"], capture_output=True, timeout=10)
still_held = not select.select([holder, waiter], [], [], 0)[0]
check(got.returncode == 0 and got.stdout == b'"blue"\n', f"--local get during the hold: {got}")
check(keys.returncode == 0 and keys.stdout == b"colour\n", f"--local keys during the hold: {keys}")
check(still_held, "the hold had ended before the local reads were done")
holder.settimeout(10)
waiter.settimeout(10)
check(b'"OK"' in recv_frame(holder)[1], "the hold's reply")
check(json.loads(recv_frame(waiter)[1])["response"]["response"]["val"] == "blue", "the waiting GET's reply")
print("read during a held lock")
EOF

# 5. A reader open across a recovery reads a key written after it.
mkfifo "$WORK/keys"
python3 "$LOCAL_READER" "$NAME" <"$WORK/keys" >"$WORK/answers" &
HELPER_PIDS+=($!)
exec 3>"$WORK/keys"
# ask KEY EXPECTED: the long-running reader's answer for KEY.
ask() {
  local lines i
  lines=$(wc -l <"$WORK/answers")
  printf '%s\n' "$1" >&3
  for i in $(seq 100); do
    [ "$(wc -l <"$WORK/answers")" -gt "$lines" ] && break
    sleep 0.05
  done
  expect_eq "$(tail -n 1 "$WORK/answers")" "$2" "the open reader's answer for $1"
}
ask colour 'colour (json): "blue"'
python3 test/shell/wire.py "$PORT" 2 '{"func": "DEBUG", "params": {"crash": "in_store"}}' >/dev/null 2>&1 || true
for i in $(seq 100); do
  grep -q "store $NAME recovered" "$DAEMON_LOG" && break
  sleep 0.05
done
grep -q "store $NAME recovered" "$DAEMON_LOG" || fail "no recovery within 5 s of the crash"
wait_ready || fail "the daemon does not answer after the recovery"
"$SHMKV" -p "$PORT" put after '"recovery"'
ask after 'after (json): "recovery"'
ask colour 'colour (json): "blue"'
exec 3>&-

# 6. Readers SIGKILLed and SIGSTOPped during heavy writes change nothing for
# the daemon: the writes go on without an error, and so do networked GETs.
python3 "$LOCAL_READER" "$NAME" < <(yes key:000000000001) >/dev/null &
killed=$!
HELPER_PIDS+=($killed)
python3 "$LOCAL_READER" "$NAME" < <(yes key:000000000002) >/dev/null &
stopped=$!
HELPER_PIDS+=($stopped)
"$ROOT/$BUILD/shmkv-bench" -p "$PORT" -c 4 -d 3 -r 5000 --get-ratio 0.2 --json >"$WORK/bench" &
bench=$!
sleep 0.5
kill -0 "$killed" && kill -0 "$stopped" || fail "the busy readers did not start"
kill -KILL "$killed"
wait "$killed" 2>/dev/null || true  # killed, as meant: no job report
kill -STOP "$stopped"
wait "$bench" || fail "shmkv-bench saw errors while readers were killed and stopped: $(cat "$WORK/bench")"
run_cli -p "$PORT" get colour
expect_eq "$OUT" '"blue"' "networked GET with a reader stopped"
run_cli -p "$PORT" stats --json
python3 -c 'import json, sys; s = json.loads(sys.argv[1]); sys.exit(s["store_status"] != "ok")' "$OUT" ||
  fail "store_status after the readers' deaths: $OUT"
run_cli --local "$NAME" get colour
expect_eq "$OUT" '"blue"' "another reader with one stopped"
kill -CONT "$stopped"

# 7. A reader open when the store is removed (shmkvd --remove-store) lets go
# of the old segment instead of serving it on: its next GET finds no store.
mkfifo "$WORK/keys2"
python3 "$LOCAL_READER" "$NAME" <"$WORK/keys2" >"$WORK/answers" &
HELPER_PIDS+=($!)
exec 3>"$WORK/keys2"
ask colour 'colour (json): "blue"'
stop_daemon
"$SHMKVD" --name "$NAME" --remove-store 2>/dev/null || fail "--remove-store failed"
ask colour "colour: error: no segment /dev/shm/$NAME: is shmkvd --name $NAME running?"
exec 3>&-
echo "local readers agree with the daemon, through a recovery and beside killed and stopped readers, until the store is removed"
