"""Data for snapshot_test.sh: writes many keys of mixed JSON values with
pipelined PUTs, and checks a store against them byte for byte.

python3 snapshot_data.py load PORT COUNT EXPECTED   write COUNT keys; save them to EXPECTED
python3 snapshot_data.py put PORT KEY JSON EXPECTED one more key, added to EXPECTED
python3 snapshot_data.py check PORT EXPECTED        every key's stored text equals EXPECTED's
"""

import json
import random
import sys

import wire

BATCH = 500


def value(i, rnd):
    """A JSON value's exact text, of a kind chosen by i: the store keeps text
    as sent, so odd spacing and escapes must come back unchanged."""
    kind = i % 7
    if kind == 0:
        return str(rnd.randint(-2**53, 2**53))
    if kind == 1:
        return json.dumps("s" * rnd.randint(0, 40) + "\u00e9\\\"\n")
    if kind == 2:
        return "[1, 2.5e3 ,{\"a\":null}]"
    if kind == 3:
        return json.dumps({"id": i, "tags": ["x", "y"], "nested": {"ok": True}})
    if kind == 4:
        return "true"
    if kind == 5:
        return "null"
    return json.dumps("v" * rnd.randint(100, 2000))


def pipelined(sock, bodies):
    sock.sendall(b"".join(wire.frame(2, b) for b in bodies))
    return [json.loads(wire.recv_frame(sock)[1]) for _ in bodies]


def put_all(port, items):
    with wire.connect(port) as s:
        for at in range(0, len(items), BATCH):
            chunk = items[at:at + BATCH]
            bodies = ['{"func": "PUT", "params": {"obj": %s, "val": %s}}' % (json.dumps(k), v) for k, v in chunk]
            for reply in pipelined(s, bodies):
                wire.check(reply["status"] == "OK", f"PUT failed: {reply}")


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "load":
        count, path = int(sys.argv[3]), sys.argv[4]
        rnd = random.Random(15)
        items = [(f"key:{i:06d}:" + ("\u00fc" if i % 11 == 0 else ""), value(i, rnd)) for i in range(count)]
        put_all(port, items)
        with open(path, "w") as f:
            json.dump(dict(items), f)
    elif cmd == "put":
        key, val, path = sys.argv[3], sys.argv[4], sys.argv[5]
        put_all(port, [(key, val)])
        with open(path) as f:
            expected = json.load(f)
        expected[key] = val
        with open(path, "w") as f:
            json.dump(expected, f)
    elif cmd == "check":
        with open(sys.argv[3]) as f:
            expected = json.load(f)
        keys = sorted(expected)
        stats = wire.call(port, {"func": "STATS", "params": {}})["response"]["response"]
        wire.check(stats["keys"] == len(keys), f"the store has {stats['keys']} keys, expected {len(keys)}")
        with wire.connect(port) as s:
            for at in range(0, len(keys), BATCH):
                chunk = keys[at:at + BATCH]
                bodies = [json.dumps({"func": "GET", "params": {"obj": k}}) for k in chunk]
                s.sendall(b"".join(wire.frame(2, b) for b in bodies))
                for k in chunk:
                    raw = wire.recv_frame(s)[1].decode()
                    # The value is spliced in as stored: compare the text.
                    want = '{"status": "OK", "response": {"func": "GET", "response": {"obj": %s, "val": %s}}}' % (
                        json.dumps(k), expected[k])  # the key as json.dumps writes it
                    wire.check(raw == want, f"key {k!r}: got {raw[:200]}, expected {want[:200]}")
        print(f"{len(keys)} keys match")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
