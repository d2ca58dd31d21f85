#!/usr/bin/env bash
# Pipelined version-2 requests come back in order on one connection; a
# version-1 request is answered and the server closes the connection first.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
python3 pipelining.py "$PORT"
