#!/usr/bin/env bash
# systemd integration with the real tools: readiness on a NOTIFY_SOCKET the
# test owns, socket activation by systemd-socket-activate, and journal
# priority prefixes when stderr is the stream JOURNAL_STREAM names.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/test/shell"

python3 systemd_notify.py "$SHMKVD" "$NAME" "$(free_port)" "$WORK"

# Socket activation: the daemon serves on the socket it was passed.
PORT=$(free_port)
systemd-socket-activate -l "127.0.0.1:$PORT" "$SHMKVD" --name "$NAME" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!  # systemd-socket-activate execs shmkvd in place: the same pid
wait_ready || fail "shmkvd did not answer on the activated socket"
"$SHMKV" -p "$PORT" put activated '[1, 2]'
expect_eq "$("$SHMKV" -p "$PORT" get activated)" "[1, 2]" "GET over the activated socket"
grep -q "listening on 127.0.0.1:$PORT (from systemd)" "$DAEMON_LOG" || fail "activated socket not logged"
stop_daemon
expect_eq "$DAEMON_STATUS" 0 "exit status of the activated daemon"

# Journal: with JOURNAL_STREAM naming its stderr, lines carry <N> prefixes.
journal=$WORK/journal.log
: > "$journal"
PORT=$(free_port)
JOURNAL_STREAM=$(stat -c '%d:%i' "$journal") "$SHMKVD" --port "$PORT" --name "$NAME" 2>>"$journal" &
DAEMON_PID=$!
wait_ready || fail "shmkvd did not start with JOURNAL_STREAM"
stop_daemon
grep -q '^<6>info: shmkvd .* serving store' "$journal" || fail "no <6> prefix in: $(head -3 "$journal")"
if grep -q '^[0-9]\{4\}-' "$journal"; then fail "timestamps written to the journal"; fi
