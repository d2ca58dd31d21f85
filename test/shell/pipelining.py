"""Version 2 keeps the connection and answers pipelined requests in order;
version 1 is answered and the server closes first (shmkv-protocol(7), Connections)."""

import json
import socket
import sys

from wire import check, closed_by_peer, connect, frame, recv_frame

PORT = int(sys.argv[1])
N = 200

# 200 requests in one send: PUTs and GETs interleaved, so that each GET must
# see the PUT just before it, and the replies must come back in order.
with connect(PORT) as s:
    batch = b""
    for i in range(N // 2):
        batch += frame(2, json.dumps({"func": "PUT", "params": {"obj": f"p{i}", "val": [i, "x" * (i % 7)]}}))
        batch += frame(2, json.dumps({"func": "GET", "params": {"obj": f"p{i}"}}))
    s.sendall(batch)
    for i in range(N // 2):
        version, body = recv_frame(s)
        check(version == 2, f"reply {2 * i} has version {version}")
        reply = json.loads(body)
        check(reply["response"]["func"] == "PUT" and reply["response"]["response"]["obj"] == f"p{i}",
              f"reply {2 * i} out of order: {reply}")
        version, body = recv_frame(s)
        reply = json.loads(body)
        check(reply["response"]["response"] == {"obj": f"p{i}", "val": [i, "x" * (i % 7)]},
              f"reply {2 * i + 1} out of order or wrong: {reply}")
    # The connection is still open for more.
    s.sendall(frame(2, '{"func": "GET", "params": {"obj": "p0"}}'))
    check(json.loads(recv_frame(s)[1])["response"]["response"]["val"] == [0, ""], "connection not kept open")

    # A version-1 request on the same connection: answered, then closed.
    s.sendall(frame(1, '{"func": "GET", "params": {"obj": "p1"}}'))
    version, body = recv_frame(s)
    check(version == 1, "a version-1 request must be answered in version 1")
    check(closed_by_peer(s), "server kept the connection open after a version-1 reply")

# Version 1 alone: the server closes first, without waiting for the client.
with connect(PORT) as s:
    s.sendall(frame(1, '{"func": "GET", "params": {"obj": "p2"}}'))
    recv_frame(s)
    check(closed_by_peer(s), "server did not close after a version-1 reply")

# A header and body split across many small sends is still one request.
with connect(PORT) as s:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = frame(2, '{"func": "GET", "params": {"obj": "p3"}}')
    for b in data:
        s.sendall(bytes([b]))
    check(json.loads(recv_frame(s)[1])["response"]["response"]["val"] == [3, "xxx"], "split request")

# End of stream between messages: closed quietly, no reply.
with connect(PORT) as s:
    s.shutdown(socket.SHUT_WR)
    check(s.recv(100) == b"", "server answered an empty connection")

print(f"{N} pipelined requests answered in order; version 1 closes first")
