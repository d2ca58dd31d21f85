#!/usr/bin/env bash
# Version 1 answers byte for byte as the original server does
# (bench/original_server.py, its stand-in) wherever shmkv-protocol(7) says
# they must: keys echoed as Python's json.dumps writes them (ASCII, with
# \uXXXX escapes and surrogate pairs), values stored in json.dumps's own
# spelling, unknown functions, and a body after a UTF-8 byte order mark.
. "$(dirname "$0")/lib.sh"
start_daemon
ORIG_PORT=$(free_port)
python3 "$ROOT/bench/original_server.py" --port "$ORIG_PORT" 2>>"$WORK/original.log" &
HELPER_PIDS+=($!)  # stopped when the test ends
python3 - "$PORT" "$ORIG_PORT" <<'PY'
import json, socket, struct, sys, time
shmkvd, original = int(sys.argv[1]), int(sys.argv[2])

def connect(port):
    for _ in range(200):  # a bounded wait for the original to listen
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            time.sleep(0.05)
    sys.exit(f"FAIL: nothing listens on port {port}")

def exchange(port, body):
    with connect(port) as s:
        s.sendall(struct.pack("<ii", 1, len(body)) + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data

def request(func, **params):
    return json.dumps({"func": func, "params": params}).encode()

keys = ["plain", "caf\u00e9", "\u2603 snow", "\U0001F600", "\x7f\x01\x1f", "a\"b\\c\n\t/", "\u2028", ""]
cases = []
for i, key in enumerate(keys):
    value = {"n": i, "s": key, "l": [1.5, None, True]}
    cases += [request("GET", obj=key), request("PUT", obj=key, val=value), request("GET", obj=key)]
    # The same key spelt raw in UTF-8, as a client not using json.dumps sends it.
    cases.append(json.dumps({"func": "GET", "params": {"obj": key}}, ensure_ascii=False).encode())
cases += [request("FOO"), request("caf\u00e9"), request("\U0001F600", obj="x"),
          b"\xef\xbb\xbf" + request("GET", obj="plain")]
differ = 0
for body in cases:
    a, b = exchange(shmkvd, body), exchange(original, body)
    if a != b:
        differ += 1
        print(f"request {body!r}:\n  shmkvd   {a!r}\n  original {b!r}")
    assert a[8:].isascii(), f"reply not ASCII: {a!r}"
if differ:
    sys.exit(f"FAIL: {differ} of {len(cases)} replies differ from the original's")
print(f"{len(cases)} replies byte for byte the original's")
PY
echo PASS
