"""Stand-ins for shmkvd, for the shell tests of clients: each listens on
loopback, writes its port to READY (by rename, so a reader never sees half of
it) and serves until it is killed.

  fake_server.py READY relay6 PORT   relay a port on ::1 to 127.0.0.1:PORT
  fake_server.py READY silent        read requests, never answer
  fake_server.py READY cut           answer a request with half a reply, then close
  fake_server.py READY big MIB       answer a request with a GET reply of MIB MiB
  fake_server.py READY reply BODY    answer every request with the reply BODY
"""

import os
import socket
import struct
import sys
import threading

from wire import frame, recv_frame

READY, MODE = sys.argv[1], sys.argv[2]


def ready(address):
    with open(READY + ".tmp", "w") as f:
        f.write(f"{address}\n")
    os.rename(READY + ".tmp", READY)


def pump(src, dst):
    """Copies src to dst until end of stream, then passes the end on."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(client, port):
    with client, socket.create_connection(("127.0.0.1", port)) as upstream:
        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join()


def silent(client):
    with client:
        while client.recv(65536):
            pass


def requests(client):
    """Yields each request the client sends, until it closes."""
    while True:
        try:
            yield recv_frame(client)
        except EOFError:
            return


def cut(client):
    with client:
        for _ in requests(client):
            reply = frame(2, b'{"status": "OK", "response": {"func": "GET", "response": {"obj": "k", "val": 1}}}')
            client.sendall(reply[: len(reply) // 2])
            return


def big(client, mib):
    with client:
        recv_frame(client)
        head = b'{"status": "OK", "response": {"func": "GET", "response": {"obj": "k", "val": "'
        tail = b'"}}}'
        client.sendall(struct.pack("<ii", 2, len(head) + (mib << 20) + len(tail)) + head)
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(mib):
                client.sendall(chunk)
            client.sendall(tail)
        except OSError:
            pass


def reply(client, body):
    with client:
        for _ in requests(client):
            client.sendall(frame(2, body))


def main():
    if MODE == "relay6":
        port = int(sys.argv[3])
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.bind(("::1", 0))
        address = listener.getsockname()[1]
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        address = listener.getsockname()[1]
    listener.listen(64)
    ready(address)
    while True:
        client, _ = listener.accept()
        if MODE == "relay6":
            target, args = relay, (client, port)
        elif MODE in ("silent", "cut"):
            target, args = {"silent": silent, "cut": cut}[MODE], (client,)
        elif MODE == "big":
            target, args = big, (client, int(sys.argv[3]))
        elif MODE == "reply":
            target, args = reply, (client, sys.argv[3].encode("utf-8", "surrogateescape"))
        threading.Thread(target=target, args=args, daemon=True).start()


if __name__ == "__main__":
    main()
