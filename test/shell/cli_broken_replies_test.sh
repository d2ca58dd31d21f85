#!/usr/bin/env bash
# Replies from a hostile or broken server that shmkv once took for good ones:
# a GET value that is not JSON, and a TTL too large for milliseconds. Each is
# a protocol error (exit 3, one line), never printed as if it were right.
. "$(dirname "$0")/lib.sh"

# serve NAME BODY: a stand-in server that answers every request with BODY;
# sets SERVER_PORT.
serve() {
  start_helper "$WORK/$1.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/$1.ready" reply "$2"
  SERVER_PORT=$(cat "$WORK/$1.ready")
}
get_reply() { printf '{"status": "OK", "response": {"func": "GET", "response": {"obj": "a", "val": %s}}}' "$1"; }
ttl_reply() { printf '{"status": "OK", "response": {"func": "TTL", "response": {"obj": "a", "ttl": %s}}}' "$1"; }

serve broken "$(get_reply '{"x": }')"
for form in "get a" "get -r a"; do
  run_cli -p "$SERVER_PORT" $form
  expect_eq "$RC:$OUT" 3: "$form of a value that is not JSON"
  [[ $ERR == *"broke the protocol: a value that is not JSON"* ]] || fail "$form, broken value: $ERR"
done
serve good "$(get_reply '{"x": [1, "y"]}')"
run_cli -p "$SERVER_PORT" get a
expect_eq "$RC:$OUT" '0:{"x": [1, "y"]}' "get of a good value from the stand-in"

for ttl in 1e300 9.3e15; do
  serve "ttl$ttl" "$(ttl_reply "$ttl")"
  run_cli -p "$SERVER_PORT" ttl a
  expect_eq "$RC:$OUT" 3: "ttl answered $ttl seconds"
  [[ $ERR == *"broke the protocol: TTL answered $ttl"* ]] || fail "ttl $ttl: $ERR"
done
serve ttlgood "$(ttl_reply 2.5)"
run_cli -p "$SERVER_PORT" ttl a
expect_eq "$RC:$OUT" "0:2.500" "ttl answered 2.5 seconds"
echo PASS
