"""A client written the way the original dictionary server's client was:
struct.pack("ii", 1, len) for the header, json.dumps for the body, header and
body in separate sends, one request per connection. It must work against
shmkvd unchanged, and see the original's reply bytes exactly."""

import json
import socket
import struct
import sys

from wire import check, ok_body

PORT = int(sys.argv[1])


def request(payload):
    body = json.dumps(payload).encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", PORT))
    sock.send(struct.pack("ii", 1, len(body)))
    sock.send(body)
    header = b""
    while len(header) < 8:
        chunk = sock.recv(8 - len(header))
        check(chunk, "connection closed inside the reply header")
        header += chunk
    version, length = struct.unpack("ii", header)
    check(version == 1, f"reply version {version}, expected 1")
    reply = b""
    while len(reply) < length:
        chunk = sock.recv(length - len(reply))
        check(chunk, "connection closed inside the reply body")
        reply += chunk
    # Version 1: the server closes first.
    check(sock.recv(1) == b"", "server did not close the connection after a version-1 reply")
    sock.close()
    return reply


VALUES = [
    12345678901234567890123,
    1.0,
    -0.5e-10,
    "\u2603\"",
    [1, [2, [3, {"deep": [None, True, False]}]]],
    {"r": 255, "nested": {"list": [1.5, "x"], "empty": {}}},
    None,
    "",
    0,
]

for i, value in enumerate(VALUES):
    key = f"compat-{i}"
    reply = request({"func": "PUT", "params": {"obj": key, "val": value}})
    check(reply == ok_body("PUT", {"obj": key, "response": "ok"}), f"PUT {value!r}: got {reply!r}")
    reply = request({"func": "GET", "params": {"obj": key}})
    check(reply == ok_body("GET", {"obj": key, "val": value}), f"GET {value!r}: got {reply!r}")
    # Python's own json keeps big integers and floats: the value round-trips.
    got = json.loads(reply)["response"]["response"]["val"]
    check(got == value and type(got) is type(value), f"value {value!r} came back as {got!r}")

reply = request({"func": "GET", "params": {"obj": "compat-absent"}})
check(reply == ok_body("GET", {"obj": "compat-absent", "val": None}), f"absent GET: {reply!r}")

reply = request({"func": "LIST", "params": {}})
check(reply == ok_body("LIST", "ERROR - Function doesn't exist"), f"unknown function: {reply!r}")

# A key with characters json.dumps escapes (ensure_ascii) is one key with its
# raw UTF-8 spelling.
request({"func": "PUT", "params": {"obj": "sn\u00f8w \u2603", "val": 1}})
sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
body = '{"func": "GET", "params": {"obj": "sn\u00f8w \u2603"}}'.encode("utf-8")
sock.sendall(struct.pack("ii", 1, len(body)) + body)
check(b'"val": 1}' in sock.recv(4096), "key spelled as raw UTF-8 was not found")
sock.close()
print(f"original client: {len(VALUES)} values stored and read back byte-exact")
