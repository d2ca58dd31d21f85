"""Raw RESP helpers for the shell tests: commands built by hand, so that the
tests see exactly the bytes that cross the socket (shmkv-protocol(7), RESP).
Used as a module by the test scripts (sys.path has this folder)."""

import socket

TIMEOUT = 5


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def command(*args):
    """A multibulk request of the byte strings args."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def read_all(sock):
    """Everything the server sends until it closes the connection."""
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def exchange(port, data):
    """Sends data on a new connection; returns all the server sends until it closes."""
    sock = connect(port)
    sock.sendall(data)
    return read_all(sock)
