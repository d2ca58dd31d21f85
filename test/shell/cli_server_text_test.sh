#!/usr/bin/env bash
# Text that shmkv prints in an error message but did not write itself (a
# server's error, a key, a segment name) is one line without raw control
# characters: line breaks, ESC and BEL are written \xNN.
. "$(dirname "$0")/lib.sh"
start_daemon

# expect_clean WHAT: the error in $ERR is one line, without control bytes,
# and shows the line break as \x0a.
expect_clean() {
  expect_eq "$(printf '%s\n' "$ERR" | wc -l)" 1 "$1: lines on stderr"
  if LC_ALL=C grep -q '[[:cntrl:]]' <<<"${ERR//$'\n'/ }"; then fail "$1: a control byte in: $(cat -v <<<"$ERR")"; fi
  [[ $ERR == *'\x0a'* ]] || fail "$1: the line break is not shown: $ERR"
}

# The daemon's error for a binary value names the key, which holds a line
# break and an ESC sequence.
"$SHMKV" -p "$PORT" call PUT '{"obj": "a\nb\u001b[31m", "bytes": "/w=="}' >/dev/null
run_cli -p "$PORT" get $'a\nb\e[31m'
expect_eq "$RC" 3 "get of a binary value"
expect_clean "get of a binary value whose key has control characters"

# A server whose error message has line breaks, ESC and BEL.
start_helper "$WORK/err.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/err.ready" reply \
  '{"status": "ERROR", "error": "first\nsecond\u001b[2J\u0007\r"}'
run_cli -p "$(cat "$WORK/err.ready")" get a
expect_eq "$RC" 3 "an error reply"
expect_clean "an error reply with control characters"
[[ $ERR == *'refused GET: first\x0asecond\x1b[2J\x07\x0d'* ]] || fail "the server's message: $ERR"

# A reply that breaks the protocol is quoted in the message.
start_helper "$WORK/broken.ready" python3 "$ROOT/test/shell/fake_server.py" "$WORK/broken.ready" reply \
  $'{"status": 1, "x": "\n\e[2J"}'
run_cli -p "$(cat "$WORK/broken.ready")" get a
expect_eq "$RC" 3 "a broken reply"
expect_clean "a broken reply with control characters"

# A --local segment name with a line break.
run_cli --local $'no\nsuch' get a
expect_eq "$RC" 3 "--local with a name that has a line break"
expect_clean "--local with a name that has a line break"
echo PASS
