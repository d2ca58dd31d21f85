#!/usr/bin/env bash
# Bad ttl, if and by params, and duplicate members (last wins), on the wire.
. "$(dirname "$0")/lib.sh"
start_daemon
cd "$ROOT/test/shell"
timeout 60 python3 params.py "$PORT"
