"""Bytes values for dump_bytes_test.sh, written and read back over RESP with
redis-py (run it with /usr/bin/python3, which has Debian's python3-redis).

dump_bytes.py load RESP_PORT        write the keys below over RESP
dump_bytes.py state RESP_PORT PORT  print every key's RESP value (hex), kind
                                    (a typed JSON GET) and expiry, one a line
"""

import base64
import json
import sys

import redis

import wire


def values():
    """Every single byte value, all 256 in one value, text that is not UTF-8,
    text that is, bytes that look like JSON, and an empty value."""
    out = {f"byte:{b:03d}": bytes([b]) for b in range(256)}
    out["all"] = bytes(range(256))
    out["not-utf8"] = b"caf\xe9 \xc3\x28 \xf0\x28\x8c\xbc \xff\xfe"
    out["utf8"] = "h\u00e9llo \u2603\n".encode()
    out["looks-like-json-string"] = b'"quoted"'
    out["looks-like-json-number"] = b"42"
    out["empty"] = b""
    out["crlf"] = b"a\r\nb"
    return out


def load(resp_port):
    r = redis.Redis(port=resp_port)
    pipe = r.pipeline(transaction=False)
    for key, value in values().items():
        pipe.set(key, value)
    pipe.set("expiring-bytes", b"\x00\x01\xff", ex=1000)
    assert all(pipe.execute())


def typed_get(sock, key):
    sock.sendall(wire.frame(2, json.dumps({"func": "GET", "params": {"obj": key, "encoding": "base64"}})))
    reply = json.loads(wire.recv_frame(sock)[1])
    wire.check(reply["status"] == "OK", f"typed GET {key}: {reply}")
    r = reply["response"]["response"]
    if r["kind"] == "bytes":
        return "bytes", base64.b64decode(r["bytes"], validate=True).hex()
    return r["kind"], json.dumps(r["val"])


def state(resp_port, port):
    r = redis.Redis(port=resp_port)
    keys = sorted(r.keys("*"))
    with wire.connect(port) as s:
        for key in keys:
            kind, typed = typed_get(s, key.decode())
            ttl = r.pttl(key)
            # The expiry ran down since the dump: kept to the minute.
            expiry = "none" if ttl == -1 else ("about 1000 s" if 900_000 < ttl <= 1_000_000 else f"wrong: {ttl}")
            print(key.decode(), r.get(key).hex(), kind, typed, expiry)


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(int(sys.argv[2]))
    elif sys.argv[1] == "state":
        state(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)
