#!/usr/bin/env bash
# shmkv-bench against a live shmkvd (TCP and UNIX socket, both modes,
# pipelined) finds no errors; against servers that answer with errors, wrong
# replies or hang-ups it counts them and exits 1; --json parses; bad command
# lines exit 2 and an absent server 3; the benchmark's reference server
# answers as the original did. Functional only: nothing is timed.
. "$(dirname "$0")/lib.sh"
BENCH=$ROOT/$BUILD/shmkv-bench
FAKE_PID=

# lib.sh's trap stops the daemon; this one stops the fake servers first.
trap 'rc=$?; set +e; for pid in $FAKE_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; (exit $rc); cleanup' EXIT

run() {  # run ARGS...: sets OUT, ERR and RC
  RC=0
  "$BENCH" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}

# start_fake MODE: start bad_server.py, wait for its port; sets FAKE_PORT.
start_fake() {
  local portfile=$WORK/fake-$1.port i
  python3 "$ROOT/test/shell/bad_server.py" "$1" "$portfile" 2>>"$WORK/fake.log" &
  FAKE_PID="$FAKE_PID $!"
  for i in $(seq 200); do
    [ -s "$portfile" ] && break
    sleep 0.05
  done
  [ -s "$portfile" ] || fail "fake server ($1) did not start: $(cat "$WORK/fake.log")"
  FAKE_PORT=$(cat "$portfile")
}

start_daemon --socket "$WORK/shmkvd.sock"

for args in "--mode keep" "--mode conn" "--mode keep -P 16" "--mode keep -P 16 -c 1" "--mode conn -c 1"; do
  # shellcheck disable=SC2086
  run -p "$PORT" -n 1000 -c 8 $args
  expect_eq "$RC" 0 "shmkv-bench $args: exit status (output: $OUT $ERR)"
  [[ $OUT == *"requests     1000 in "*": 1000 ok, 0 errors"* ]] || fail "shmkv-bench $args: $OUT"
  [[ $OUT == *"errors       0: "* ]] || fail "shmkv-bench $args: no error line: $OUT"
done

run -s "$WORK/shmkvd.sock" -n 1000 -c 4 -P 16
expect_eq "$RC" 0 "shmkv-bench over the UNIX socket (output: $OUT $ERR)"
[[ $OUT == *": 1000 ok, 0 errors"* ]] || fail "UNIX socket run: $OUT"
run -s "$WORK/shmkvd.sock" -n 200 -c 4 --mode conn
expect_eq "$RC" 0 "conn mode over the UNIX socket (output: $OUT $ERR)"

# A run bounded by time rather than count ends by itself.
run -p "$PORT" -d 0.5 -c 2
expect_eq "$RC" 0 "shmkv-bench -d (output: $OUT $ERR)"

# --sequential PUTs store every key of the keyspace, with the value asked for.
run -p "$PORT" -n 100 -r 100 --sequential --get-ratio 0 --value-size 10 -P 8 -c 2
expect_eq "$RC" 0 "sequential load (output: $OUT $ERR)"
for key in key:000000000000 key:000000000042 key:000000000099; do
  expect_eq "$("$SHMKV" -p "$PORT" get "$key")" '"xxxxxxxx"' "value of $key after the sequential load"
done

# --json: one object with the fields, and the same counts.
run -p "$PORT" -n 1000 -c 4 --json
expect_eq "$RC" 0 "--json exit status"
python3 -c '
import json, sys
d = json.load(sys.stdin)
need = ["target", "mode", "connections", "pipeline", "requests", "ok", "errors", "error_replies",
        "wrong_replies", "connection_errors", "unanswered", "seconds", "requests_per_second",
        "latency_ms", "error_examples"]
missing = [k for k in need if k not in d] + [k for k in ["p50", "p90", "p99", "p99.9", "max"] if k not in d["latency_ms"]]
assert not missing, f"missing fields: {missing}"
assert d["requests"] == 1000 and d["ok"] == 1000 and d["errors"] == 0, d
assert d["mode"] == "keep" and d["connections"] == 4, d
' <<<"$OUT" || fail "--json output: $OUT"

# A server that answers every request with an error: every one is counted.
start_fake error
for mode in keep conn; do
  run -p "$FAKE_PORT" -n 1000 -c 4 --mode "$mode"
  expect_eq "$RC" 1 "against the error server, --mode $mode: exit status (output: $OUT $ERR)"
  [[ $OUT == *": 0 ok, 1000 errors"* ]] || fail "error server, $mode: errors not counted: $OUT"
  [[ $OUT == *"1000 error replies"* ]] || fail "error server, $mode: $OUT"
  [[ $OUT == *"error reply: nope"* ]] || fail "error server, $mode: message not shown: $OUT"
done
run -p "$FAKE_PORT" -n 100 -P 8 --json
expect_eq "$RC" 1 "--json against the error server"
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] == 0 and d["errors"] == 100 and d["error_replies"] == 100, d
assert d["error_examples"] == ["error reply: nope"], d
' <<<"$OUT" || fail "--json against the error server: $OUT"

# Replies for the wrong key are wrong replies.
start_fake wrong
run -p "$FAKE_PORT" -n 200 -c 2
expect_eq "$RC" 1 "against the wrong-key server"
[[ $OUT == *": 0 ok, 200 errors"*"200 wrong replies"* ]] || fail "wrong-key server: $OUT"
[[ $OUT == *"answered with another key"* ]] || fail "wrong-key server: no example: $OUT"

# A server that hangs up: connection errors, every request unanswered.
start_fake hangup
run -p "$FAKE_PORT" -n 50 -c 2
expect_eq "$RC" 1 "against the hang-up server"
[[ $OUT == *"50 connection errors (50 requests unanswered)"* ]] || fail "hang-up server: $OUT"

# The benchmark's reference, bench/original_server.py, answers as the
# original did (shmkv-protocol(7), section 6's bytes) and passes
# shmkv-bench's checks in conn mode.
ORIG_PORT=$(free_port)
python3 "$ROOT/bench/original_server.py" --port "$ORIG_PORT" 2>>"$WORK/original.log" &
FAKE_PID="$FAKE_PID $!"
python3 - "$ORIG_PORT" <<'PY' || fail "original_server.py: $(cat "$WORK/original.log")"
import socket, struct, sys, time
port = int(sys.argv[1])
def ask(body):
    for _ in range(200):  # bounded wait for the server to listen
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    with s:
        s.sendall(struct.pack("<ii", 1, len(body)) + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data  # the server closes after one reply
            data += chunk
def expect(body, reply):
    got = ask(body)
    assert got == struct.pack("<ii", 1, len(reply)) + reply, (body, got)
expect(b'{"func": "PUT", "params": {"obj": "colour", "val": {"r": 255}}}',
       b'{"status": "OK", "response": {"func": "PUT", "response": {"obj": "colour", "response": "ok"}}}')
expect(b'{"func": "GET", "params": {"obj": "colour"}}',
       b'{"status": "OK", "response": {"func": "GET", "response": {"obj": "colour", "val": {"r": 255}}}}')
expect(b'{"func": "GET", "params": {"obj": "nope"}}',
       b'{"status": "OK", "response": {"func": "GET", "response": {"obj": "nope", "val": null}}}')
expect(b'{"func": "NOPE", "params": {}}',
       b'{"status": "OK", "response": {"func": "NOPE", "response": "ERROR - Function doesn\'t exist"}}')
PY
run -p "$ORIG_PORT" -n 1000 -c 4 --mode conn -r 100
expect_eq "$RC" 0 "shmkv-bench --mode conn against the original server (output: $OUT $ERR)"
[[ $OUT == *": 1000 ok, 0 errors"* ]] || fail "conn mode against the original server: $OUT"

# Usage errors exit 2; nobody listening exits 3.
for bad in "-P 2 --mode conn" "-n 10 -d 1" "--get-ratio 1.5" "--value-size 1" "-c 0" "--mode fast" \
           "-p 0" "-s /x -p 1" "extra"; do
  # shellcheck disable=SC2086
  run $bad
  expect_eq "$RC" 2 "shmkv-bench $bad"
  [[ $ERR == *"shmkv-bench --help"* ]] || fail "shmkv-bench $bad: $ERR"
done
dead=$(free_port)
run -p "$dead" -n 10
expect_eq "$RC" 3 "nobody listening"
[[ $ERR == *"127.0.0.1:$dead"* ]] || fail "unreachable message does not name the address: $ERR"

run --version
[[ $RC == 0 && $OUT == "shmkv-bench "* ]] || fail "--version: $RC $OUT"
run --help
[[ $RC == 0 && $OUT == usage:* ]] || fail "--help: $RC $OUT"
