#!/usr/bin/env python3
"""A shmkv client in Python, written as clients of the original dictionary
server were: the 8-byte header packed with struct.pack("ii", 1, length), a
json.dumps body, one request per connection (version 1: the server answers
and closes). Standard library only; a template for clients in any language.
See shmkv-protocol(7) (man/shmkv-protocol.7) for the wire format.

    python3 examples/python_client.py [PORT]    (default 4444, on 127.0.0.1)
"""

import json
import socket
import struct
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 4444


def recv_exactly(sock, n):
    """TCP is a byte stream: loop until n bytes have come."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def request(func, params):
    """Sends one request on a new connection and returns response.response."""
    body = json.dumps({"func": func, "params": params}).encode()
    with socket.create_connection((HOST, PORT), timeout=5) as sock:
        # Header and body in one send: two small writes invite Nagle stalls.
        sock.sendall(struct.pack("ii", 1, len(body)) + body)
        version, length = struct.unpack("ii", recv_exactly(sock, 8))
        reply = json.loads(recv_exactly(sock, length))
    if reply["status"] != "OK":
        raise RuntimeError(f"{func}: {reply.get('error', 'server error')}")
    return reply["response"]["response"]


def put(key, value):
    request("PUT", {"obj": key, "val": value})


def get(key):
    """The value under key, or None when it is not set."""
    return request("GET", {"obj": key})["val"]


def delete(key):
    """True when key was there (a shmkv extension of the protocol)."""
    return request("DELETE", {"obj": key})["response"] == "ok"


value = {"colour": [255, 128, 0], "big": 12345678901234567890123, "ratio": 0.5, "name": "sn\u00f8w \u2603"}
put("example:python", value)
got = get("example:python")
print("stored and read back:", json.dumps(got, ensure_ascii=False))
print("exactly the same value:", got == value and type(got["big"]) is int)
print("deleted:", delete("example:python"))
print("after delete:", get("example:python"))
print("unknown function:", request("FROB", {}))
