#!/usr/bin/env bash
# Socket activation with a RESP socket (shmkvd(8) ENVIRONMENT): of the
# sockets systemd-socket-activate passes, the one named "resp"
# (FileDescriptorName=resp, LISTEN_FDNAMES) speaks RESP and the other JSON.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
RESP_PORT=$(free_port)
systemd-socket-activate -l "127.0.0.1:$PORT" -l "127.0.0.1:$RESP_PORT" --fdname=json:resp \
    "$SHMKVD" --name "$NAME" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!  # systemd-socket-activate execs shmkvd in place: the same pid
wait_ready || fail "shmkvd did not answer JSON on the first activated socket"
expect_eq "$(timeout 10 redis-cli -p "$RESP_PORT" set activated yes)" "OK" "RESP SET on the socket named resp"
expect_eq "$("$SHMKV" -p "$PORT" get activated)" '"yes"' "JSON GET of it on the other socket"
grep -q "listening on 127.0.0.1:$RESP_PORT (from systemd) (RESP)" "$DAEMON_LOG" || fail "RESP socket not logged"
grep -q "listening on 127.0.0.1:$PORT (from systemd)\$" "$DAEMON_LOG" || fail "JSON socket not logged"
stop_daemon
expect_eq "$DAEMON_STATUS" 0 "exit status of the activated daemon"
echo "ok resp_activation"
