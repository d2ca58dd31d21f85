#!/usr/bin/env bash
# shmkv with no command runs the commands on standard input, one a line, over
# one connection: output, errors with line numbers, the exit status, the
# prompt on a terminal, and a connection the server closed while idle.
. "$(dirname "$0")/lib.sh"
start_daemon --log-level debug --idle-timeout 1

# connections counts the connections the daemon has accepted so far.
connections() { grep -c 'connection from' "$DAEMON_LOG" || true; }

cat >"$WORK/commands" <<'EOF'
# a comment, then a blank line

put colour {"r": 255, "g": [1, 2]}
get colour
put "two words" "a\nb"
get -r "two words"
get missing
put --string motto   keep  the   blanks
get motto
frob
put k -
call GET {"obj": "colour"}
EOF
before=$(connections)
run_cli -p "$PORT" <"$WORK/commands"
expect_eq "$OUT" '{"r": 255, "g": [1, 2]}
a
b
"keep  the   blanks"
{"status": "OK", "response": {"func": "GET", "response": {"obj": "colour", "val": {"r": 255, "g": [1, 2]}}}}' \
  "output of the commands"
expect_eq "$ERR" "shmkv: line 7: \"missing\" is not set
shmkv: line 10: unknown command 'frob' (see 'shmkv --help')
shmkv: line 11: put KEY - reads standard input, which holds the commands here (see 'shmkv --help')" \
  "errors name their line"
expect_eq "$RC" 2 "the exit status is the worst of the commands'"
expect_eq "$(( $(connections) - before ))" 1 "connections for the whole run"
expect_eq "$("$SHMKV" -p "$PORT" get 'two words')" '"a\nb"' "a quoted key is a JSON string"

printf 'get colour\nget missing\n' | "$SHMKV" -p "$PORT" >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" 1 "a missing key in a script: exit 1"
printf 'get colour\n' | "$SHMKV" -p "$PORT" >/dev/null && rc=0 || rc=$?
expect_eq "$rc" 0 "a script that succeeds: exit 0"

# A lost connection stops a script: the lines after it are not run.
start_helper "$WORK/silent.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/silent.ready" silent
printf 'get a\nget b\n' >"$WORK/commands"
run_cli -p "$(cat "$WORK/silent.ready")" -t 0.2 <"$WORK/commands"
expect_eq "$RC:$OUT" "3:" "a script against a server that does not answer"
[[ $ERR == "shmkv: line 1: no reply from "*"
shmkv: stopped at line 1: the commands after it were not run" ]] || fail "lost connection message: $ERR"

# The server closes an idle connection (--idle-timeout 1): the next command
# connects again, and nothing is lost.
mkfifo "$WORK/fifo"
before=$(connections)
"$SHMKV" -p "$PORT" <"$WORK/fifo" >"$WORK/idle.out" 2>"$WORK/idle.err" &
client=$!
exec 3>"$WORK/fifo"
echo 'put idle 1' >&3
echo 'get idle' >&3
for i in $(seq 100); do [ -s "$WORK/idle.out" ] && break; sleep 0.05; done
expect_eq "$(cat "$WORK/idle.out")" 1 "before the idle timeout"
# Wait, bounded, until the client's end of the connection has seen the
# server close it (CLOSE-WAIT), so that the next command meets a closed one.
close_wait() {  # close_wait PORT: a local TCP socket on PORT is in CLOSE-WAIT
  python3 - "$1" <<'PY'
import sys
port = sys.argv[1]
for line in open("/proc/net/tcp").readlines()[1:]:
    fields = line.split()
    if int(fields[1].split(":")[1], 16) == int(port) and fields[3] == "08":
        sys.exit(0)
sys.exit(1)
PY
}
client_port=$(grep 'connection from' "$DAEMON_LOG" | tail -n 1 | sed 's/.*://')
for i in $(seq 100); do
  close_wait "$client_port" && break
  sleep 0.05
done
close_wait "$client_port" || fail "the server did not close the idle connection within 5 s"
echo 'put idle 2' >&3
echo 'get idle' >&3
exec 3>&-
rc=0
wait "$client" || rc=$?
expect_eq "$rc:$(cat "$WORK/idle.out"):$(cat "$WORK/idle.err")" "0:1
2:" "after the server closed the idle connection"
expect_eq "$(( $(connections) - before ))" 2 "connections, the second after the idle timeout"

# On a terminal, a prompt before each command.
python3 - "$SHMKV" "$PORT" <<'PY'
import os, pty, select, sys

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-p", sys.argv[2]])
seen = b""

def read_until(token):
    global seen
    while token not in seen:
        ready, _, _ = select.select([fd], [], [], 10)
        if not ready:
            sys.exit(f"no {token!r} within 10 s; saw {seen!r}")
        seen += os.read(fd, 4096)
    before, _, seen = seen.partition(token)
    return before

read_until(b"shmkv> ")
os.write(fd, b"get colour\n")
answer = read_until(b"shmkv> ")
if b'{"r": 255, "g": [1, 2]}' not in answer:
    sys.exit(f"no value before the next prompt: {answer!r}")
os.write(fd, b"\x04")  # end of input
_, status = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(f"interactive shmkv exited with {status}")
PY
