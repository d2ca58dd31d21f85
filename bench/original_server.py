#!/usr/bin/env python3
"""The benchmark's reference: the original Python dictionary server that
shmkvd replaces, written from the version-1 rules of shmkv-protocol(7).

One process, one thread, one connection at a time: accept, read one request
(looping until the 8-byte header and the whole body are in), answer it with
json.dumps, close. GET and PUT only, over a dict in memory. It is what
bench/compare-servers measures shmkvd's one-request-per-connection pattern
against; it is not part of the product and keeps nothing on disk.

Usage: bench/original_server.py [--bind ADDRESS] --port PORT [--backlog N]
"""

import argparse
import json
import socket
import struct

HEADER = struct.Struct("<ii")  # version, body length: signed 32-bit, little-endian


def recv_exactly(conn, data, size):
    """Reads from conn until data holds size bytes; None at end of stream."""
    while len(data) < size:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data


def answer(store, request):
    """The reply body to one request, as the original wrote it."""
    func = request["func"]
    params = request["params"]
    if func == "GET":
        response = {"obj": params["obj"], "val": store.get(params["obj"])}
    elif func == "PUT":
        store[params["obj"]] = params["val"]
        response = {"obj": params["obj"], "response": "ok"}
    else:
        response = "ERROR - Function doesn't exist"
    return json.dumps({"status": "OK", "response": {"func": func, "response": response}})


def serve_one(conn, store):
    data = recv_exactly(conn, b"", HEADER.size)
    if data is None:
        return  # closed before a request: nothing to answer
    version, length = HEADER.unpack_from(data)
    data = recv_exactly(conn, data, HEADER.size + length) if length >= 0 else None
    if data is None:
        body = json.dumps({"status": "ERROR"})
    else:
        try:
            body = answer(store, json.loads(data[HEADER.size:HEADER.size + length]))
        except (ValueError, KeyError, TypeError):
            body = json.dumps({"status": "ERROR"})
    payload = body.encode()
    conn.sendall(HEADER.pack(version, len(payload)) + payload)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backlog", type=int, default=511, help="listen backlog (shmkvd's default)")
    args = parser.parse_args()

    store = {}
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(args.backlog)
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                serve_one(conn, store)
            except OSError:
                pass  # the client went away: serve the next one


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
