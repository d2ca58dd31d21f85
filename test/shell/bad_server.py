"""A server that speaks shmkv's framing but answers badly, for shmkv-bench's
tests: python3 bad_server.py MODE PORTFILE listens on a free loopback port,
writes the port to PORTFILE, and answers every request on every connection:

  error   {"status": "ERROR", "error": "nope"}
  wrong   a well-formed OK reply for another key
  hangup  nothing: it closes the connection on the first request

A version-1 request is answered and then the connection closed, as shmkvd
does (shmkv-protocol(7), Connections). It runs until it is killed."""

import json
import os
import socket
import struct
import sys
import threading

from wire import recv_frame, frame


def reply(mode, request):
    if mode == "error":
        return {"status": "ERROR", "error": "nope"}
    func = request.get("func")
    response = {"obj": "not-the-key-asked-for", "val": None} if func == "GET" else {
        "obj": "not-the-key-asked-for", "response": "ok"}
    return {"status": "OK", "response": {"func": func, "response": response}}


def serve(mode, conn):
    with conn:
        try:
            while True:
                version, body = recv_frame(conn)
                if mode == "hangup":
                    return
                conn.sendall(frame(version, json.dumps(reply(mode, json.loads(body)))))
                if version == 1:
                    return
        except (EOFError, ConnectionError):
            return


def main():
    mode, port_file = sys.argv[1], sys.argv[2]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(tmp, port_file)  # the port appears whole or not at all
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(mode, conn), daemon=True).start()


if __name__ == "__main__":
    main()
