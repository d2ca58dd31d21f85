"""Raw protocol helpers for the shell tests: frames built by hand, so that the
tests see exactly the bytes that cross the socket (shmkv-protocol(7), Framing).

Used as a module by the test scripts (sys.path has this folder) and as a
command: python3 wire.py PORT VERSION BODY prints the reply body."""

import json
import socket
import struct
import sys

TIMEOUT = 10


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return s


def frame(version, body):
    if isinstance(body, str):
        body = body.encode()
    return struct.pack("<ii", version, len(body)) + body


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def recv_frame(sock):
    """Returns (version, body bytes)."""
    version, length = struct.unpack("<ii", recv_exactly(sock, 8))
    return version, recv_exactly(sock, length)


def closed_by_peer(sock):
    """True when the server has closed its side: the next read is end of stream."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def call(port, body, version=2):
    """One request on a fresh connection; returns the decoded reply object.
    body is a dict (sent as json.dumps) or the exact text to send."""
    if isinstance(body, dict):
        body = json.dumps(body)
    with connect(port) as s:
        s.sendall(frame(version, body))
        _, reply = recv_frame(s)
        return json.loads(reply)


def get(sock, key):
    """The value of key, read with a version-2 GET over the open connection sock."""
    sock.sendall(frame(2, json.dumps({"func": "GET", "params": {"obj": key}})))
    return json.loads(recv_frame(sock)[1])["response"]["response"]["val"]


def worker_pid(sock):
    """The pid of the worker serving the open connection sock (STATS)."""
    sock.sendall(frame(2, '{"func": "STATS", "params": {}}'))
    return json.loads(recv_frame(sock)[1])["response"]["response"]["worker_pid"]


def ok_body(func, response):
    """The exact reply bytes the original server sent (json.dumps defaults)."""
    return json.dumps({"status": "OK", "response": {"func": func, "response": response}}).encode()


def status_kb(pid, field):
    """A kB figure of /proc/PID/status, such as VmHWM (a process's peak memory)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


if __name__ == "__main__":
    port, version, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with connect(port) as s:
        s.sendall(frame(version, body))
        print(recv_frame(s)[1].decode())
