#!/usr/bin/env bash
# shmkv's commands and their options against a live shmkvd: output, messages
# and exit statuses. (Connection options: cli_connect; standard input mode:
# cli_stdin; del, keys and stats: delete, keys, stats.)
. "$(dirname "$0")/lib.sh"
start_daemon

run_cli -p "$PORT" put greeting '"hello\nworld"'
expect_eq "$RC" 0 "put exit status"
expect_eq "$OUT$ERR" "" "put output"
run_cli -p "$PORT" get greeting
expect_eq "$RC:$OUT" '0:"hello\nworld"' "get prints the value's JSON"

# get -r prints a string's characters, like jq -r: "a\nb" is two lines.
run_cli -p "$PORT" get -r greeting
expect_eq "$RC:$OUT" $'0:hello\nworld' "get -r of a string"
expect_eq "$(wc -l <"$WORK/out")" 2 "get -r of \"hello\\nworld\" prints two lines"
run_cli -p "$PORT" put u '"sn\u00f8w \u2603 \"q\" \\ tab\t."'
run_cli -p "$PORT" get --raw u
expect_eq "$RC:$OUT" $'0:sn\u00f8w \u2603 "q" \\ tab\t.' "get --raw resolves every escape"
run_cli -p "$PORT" put n -1.50
run_cli -p "$PORT" get n
expect_eq "$RC:$OUT" "0:-1.50" "negative number value (not an option), digits kept"
run_cli -p "$PORT" get -r n
expect_eq "$RC:$OUT" "0:-1.50" "get -r of a number prints its JSON"
run_cli -p "$PORT" put obj ' {"a": [1, "x"]} '
run_cli -p "$PORT" get -r obj
expect_eq "$RC:$OUT" '0:{"a": [1, "x"]}' "get -r of an object prints its JSON"

# put --string stores text as a JSON string, without quoting by the user.
run_cli -p "$PORT" put --string motto 'say "hi" \ then	tab'
expect_eq "$RC:$OUT$ERR" "0:" "put --string"
run_cli -p "$PORT" get motto
expect_eq "$OUT" '"say \"hi\" \\ then\ttab"' "put --string stores a JSON string"
run_cli -p "$PORT" get -r motto
expect_eq "$OUT" 'say "hi" \ then	tab' "put --string round trip"

# JSON "-" reads the value from standard input; TEXT "-" reads it exactly.
printf ' {"from": "stdin"}\n' >"$WORK/in"
run_cli -p "$PORT" put fromstdin - <"$WORK/in"
expect_eq "$RC" 0 "put KEY - exit status"
run_cli -p "$PORT" get fromstdin
expect_eq "$OUT" '{"from": "stdin"}' "put KEY - stores standard input"
printf 'line 1\nline 2\n' >"$WORK/in"
run_cli -p "$PORT" put --string file - <"$WORK/in"
run_cli -p "$PORT" get file
expect_eq "$OUT" '"line 1\nline 2\n"' "put --string KEY - stores standard input as text"
printf '{"a": tru}' >"$WORK/in"
run_cli -p "$PORT" put bad - <"$WORK/in"
expect_eq "$RC" 2 "bad JSON on standard input"
[[ $ERR == *"malformed JSON at byte 6"* ]] || fail "bad JSON from stdin message: $ERR"

# Keys are taken as they are after the command word, '-' first or not.
run_cli -p "$PORT" put -k '[1]'
run_cli -p "$PORT" get -k
expect_eq "$RC:$OUT" "0:[1]" "a key that starts with -"
run_cli -p "$PORT" put -- -r 2
run_cli -p "$PORT" get -r -- -r
expect_eq "$RC:$OUT" "0:2" "-- ends a command's options"
run_cli -p "$PORT" put 'sp ace ☃' '"x"'
run_cli -p "$PORT" get 'sp ace ☃'
expect_eq "$RC:$OUT" '0:"x"' "a key with a blank and UTF-8"

run_cli -p "$PORT" get absent
expect_eq "$RC:$OUT" "1:" "get of a missing key"
expect_eq "$ERR" 'shmkv: "absent" is not set' "missing key message"

# Bad JSON is refused before anything is sent, with the position.
run_cli -p "$PORT" put bad '{"a": 01}'
expect_eq "$RC:$OUT" "2:" "put of bad JSON"
expect_eq "$ERR" "shmkv: JSON value for put: malformed JSON at byte 6: bad number (see 'shmkv --help')" \
  "bad JSON message"
run_cli -p "$PORT" get bad
expect_eq "$RC" 1 "bad JSON was not stored"
run_cli -p "$PORT" put bad '1 2'
[[ $RC == 2 && $ERR == *"malformed JSON at byte 2"* ]] || fail "two values: $RC $ERR"
run_cli -p "$PORT" put --string bad "$(printf 'a\xffb')"
[[ $RC == 2 && $ERR == *"TEXT for put is not valid UTF-8"* ]] || fail "text not UTF-8: $RC $ERR"
run_cli -p "$PORT" get "$(printf 'a\xffb')"
[[ $RC == 2 && $ERR == *"KEY is not valid UTF-8"* ]] || fail "key not UTF-8: $RC $ERR"

# call sends any request and prints the reply body.
run_cli -p "$PORT" call GET '{"obj": "n"}'
expect_eq "$RC:$OUT" '0:{"status": "OK", "response": {"func": "GET", "response": {"obj": "n", "val": -1.50}}}' \
  "call prints the reply body"
run_cli -p "$PORT" call FROB
expect_eq "$RC:$OUT" \
  "0:{\"status\": \"OK\", \"response\": {\"func\": \"FROB\", \"response\": \"ERROR - Function doesn't exist\"}}" \
  "call of an unknown function, with PARAMS {} by default"
run_cli -p "$PORT" call GET '{"obj": 1}'
expect_eq "$RC:$OUT" '3:{"status": "ERROR", "error": "params.obj must be a string"}' "call with an error reply"
expect_eq "$ERR" "shmkv: 127.0.0.1:$PORT refused GET: params.obj must be a string (nothing was changed; shmkvd's log may say more)" \
  "error reply message"
run_cli -p "$PORT" call GET '{"obj": '
[[ $RC == 2 && $ERR == *"PARAMS for call: malformed JSON"* ]] || fail "call with bad PARAMS: $RC $ERR"

# Usage errors: exit 2, one line that says where to look.
usage() {  # usage WHAT EXPECTED_MESSAGE ARGS...
  local what=$1 expected=$2
  shift 2
  run_cli "$@"
  expect_eq "$RC:$OUT" "2:" "$what: exit status and output"
  expect_eq "$ERR" "shmkv: $expected (see 'shmkv --help')" "$what: message"
}
usage "unknown command" "unknown command 'frob'" -p "$PORT" frob
usage "get without a key" "get takes one KEY: get [-r] KEY" -p "$PORT" get
usage "get with two keys" "get takes one KEY: get [-r] KEY" -p "$PORT" get a b
usage "put without a value" "put takes a KEY and a value: put [--ttl SECONDS] [--if-absent | --if-present] [--string] KEY JSON|TEXT" -p "$PORT" put a
usage "stats with an argument" "stats takes no argument: stats [--json]" -p "$PORT" stats x
usage "bad port" "-p takes a port from 1 to 65535, not '0'" -p 0 get x
usage "bad timeout" "-t takes seconds from 0 to 86400, e.g. 2 or 0.5, not 'soon'" -t soon get x
usage "unknown option" "unknown option -x" -x get a
usage "option without its value" "-p needs a value" -p
usage "-s with -p" "-s names a UNIX socket, so -h and -p cannot go with it" -s /tmp/x -p 1 get a

run_cli --version
[[ $RC == 0 && $OUT == "shmkv "[0-9]* ]] || fail "--version: $RC $OUT"
run_cli --help
[[ $RC == 0 && $OUT == usage:* && $ERR == "" ]] || fail "--help: $RC $OUT"
