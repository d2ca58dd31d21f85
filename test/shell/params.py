"""Bad and duplicated params of PUT's ttl and if, INCR's by and EXPIRE's ttl
(shmkv-protocol(7), Expiry and INCR): each bad one is an ERROR with a message,
stores nothing, and leaves the connection usable; of duplicate members the
last wins, as the original server's json.loads keeps it."""

import json
import sys

from wire import check, connect, frame, recv_frame

PORT = int(sys.argv[1])


def ask(s, body):
    if isinstance(body, dict):
        body = json.dumps(body)
    s.sendall(frame(2, body))
    return json.loads(recv_frame(s)[1])


def get(s, key):
    return ask(s, {"func": "GET", "params": {"obj": key}})["response"]["response"]["val"]


def ttl(s, key):
    return ask(s, {"func": "TTL", "params": {"obj": key}})["response"]["response"]["ttl"]


BAD_NUMBERS = ["0", "-0", "-0.0", "0.0", "-1", "-0.5", "0.0004", "1e-400", "1e400", "-1e400",
               "315360000.001", "315360001", "1e300", "99999999999999999999999999"]
WRONG_TYPES = ['"10"', "true", "false", "[10]", '{"s": 10}', '""']

with connect(PORT) as s:
    # PUT's ttl: every wrong type and number is refused, nothing stored.
    for text in BAD_NUMBERS + WRONG_TYPES + ["null"]:
        body = '{"func": "PUT", "params": {"obj": "t", "val": 1, "ttl": %s}}' % text
        r = ask(s, body)
        check(r["status"] == "ERROR" and r["error"], f"PUT ttl {text}: {r}")
        check("ttl" in r["error"] or "JSON" in r["error"], f"PUT ttl {text}: message {r['error']!r}")
        check(get(s, "t") is None, f"PUT ttl {text} stored something")
    # PUT's if.
    for text in ['"ABSENT"', '"maybe"', '""', "true", "1", "null", '["absent"]', '{"absent": 1}']:
        r = ask(s, '{"func": "PUT", "params": {"obj": "t", "val": 1, "if": %s}}' % text)
        check(r["status"] == "ERROR" and "params.if" in r["error"], f"PUT if {text}: {r}")
        check(get(s, "t") is None, f"PUT if {text} stored something")
    # INCR's by: an old value stays exactly as it was.
    ask(s, {"func": "PUT", "params": {"obj": "n", "val": 5}})
    for text in ["1.0", "1.5", "1e2", "-0", "-0.0", "9223372036854775808", "-9223372036854775809",
                 "1e400", "99999999999999999999999999", '"1"', "true", "null", "[1]", '{"by": 1}']:
        r = ask(s, '{"func": "INCR", "params": {"obj": "n", "by": %s}}' % text)
        check(r["status"] == "ERROR" and r["error"], f"INCR by {text}: {r}")
        check(get(s, "n") == 5, f"INCR by {text} changed the value")
    # INCR of a value that is no signed 64-bit integer, and an overflow.
    for value in ['"5"', "5.0", "[5]", "9223372036854775808", "true", "null"]:
        ask(s, '{"func": "PUT", "params": {"obj": "v", "val": %s}}' % value)
        r = ask(s, {"func": "INCR", "params": {"obj": "v"}})
        check(r["status"] == "ERROR" and "not an integer in signed 64-bit range" in r["error"], f"INCR of {value}: {r}")
        check(json.dumps(get(s, "v")) == json.dumps(json.loads(value)), f"INCR of {value} changed it")
    ask(s, {"func": "PUT", "params": {"obj": "big", "val": 9223372036854775807}})
    r = ask(s, {"func": "INCR", "params": {"obj": "big"}})
    check(r["status"] == "ERROR" and "outside signed 64-bit range" in r["error"], f"overflow: {r}")
    check(get(s, "big") == 9223372036854775807, "overflow changed the value")
    # EXPIRE's ttl: as PUT's, and null; missing.
    for text in BAD_NUMBERS + WRONG_TYPES:
        r = ask(s, '{"func": "EXPIRE", "params": {"obj": "n", "ttl": %s}}' % text)
        check(r["status"] == "ERROR" and r["error"], f"EXPIRE ttl {text}: {r}")
        check(ttl(s, "n") == -1, f"EXPIRE ttl {text} set an expiry")
    r = ask(s, {"func": "EXPIRE", "params": {"obj": "n"}})
    check(r == {"status": "ERROR", "error": "params.ttl is missing"}, f"EXPIRE without ttl: {r}")
    for func in ["INCR", "EXPIRE", "TTL"]:
        r = ask(s, {"func": func, "params": {"key": "n", "ttl": 1}})
        check(r == {"status": "ERROR", "error": "params.obj is missing"}, f"{func} without obj: {r}")
        r = ask(s, {"func": func, "params": {"obj": 7, "ttl": 1}})
        check(r == {"status": "ERROR", "error": "params.obj must be a string"}, f"{func} obj 7: {r}")
    # The connection is still usable, and nothing was stored.
    r = ask(s, {"func": "KEYS", "params": {}})
    check(sorted(r["response"]["response"]["keys"]) == ["big", "n", "v"], f"keys after bad input: {r}")
    st = ask(s, {"func": "STATS", "params": {}})["response"]["response"]
    check(st["keys_with_ttl"] == 0, f"bad input set an expiry: {st}")

    # Duplicate members: the last wins, for every member, as json.loads.
    cases = [
        ('{"func": "PUT", "params": {"obj": "d", "val": 1, "val": 2}}', "d", 2),
        ('{"func": "PUT", "params": {"obj": "x", "obj": "d2", "val": 3}}', "d2", 3),
        ('{"func": "GET", "func": "PUT", "params": {"obj": "d3", "val": 4}}', "d3", 4),
        ('{"func": "PUT", "params": {"obj": "no"}, "params": {"obj": "d4", "val": 5}}', "d4", 5),
        ('{"func": "PUT", "params": {"obj": "d5", "val": "a", "val": {"b": [1]}}}', "d5", {"b": [1]}),
        ('{"func": "PUT", "params": {"obj": 7, "obj": "d6", "val": 6}}', "d6", 6),
        ('{"func": "PUT", "params": {"o\\u0062j": "x", "obj": "d7", "val": 7}}', "d7", 7),
    ]
    for body, key, want in cases:
        r = ask(s, body)
        check(r["status"] == "OK", f"{body}: {r}")
        check(json.loads(body, object_pairs_hook=dict) is not None and get(s, key) == want, f"{body}: got {get(s, key)}")
    check(get(s, "x") is None and get(s, "no") is None, "an earlier duplicate was acted on")
    r = ask(s, '{"func": "PUT", "params": {"obj": "d8", "val": 1, "ttl": "x", "ttl": 100}}')
    check(r["status"] == "OK" and 99 < ttl(s, "d8") <= 100, f"ttl duplicate: {r}")
    r = ask(s, '{"func": "PUT", "params": {"obj": "d8", "val": 2, "ttl": 100, "ttl": 0}}')
    check(r["status"] == "ERROR" and get(s, "d8") == 1, f"last ttl 0 should be refused: {r}")
    r = ask(s, '{"func": "PUT", "params": {"obj": "d8", "val": 3, "if": "present", "if": "absent"}}')
    check(r["response"]["response"]["response"] == "not stored" and get(s, "d8") == 1, f"if duplicate: {r}")
    r = ask(s, '{"func": "INCR", "params": {"obj": "c", "by": 100, "by": 2}}')
    check(r["response"]["response"]["val"] == 2, f"by duplicate: {r}")
    r = ask(s, '{"func": "INCR", "params": {"obj": "c", "by": 2, "by": 1.5}}')
    check(r["status"] == "ERROR" and get(s, "c") == 2, f"last by 1.5 should be refused: {r}")
    r = ask(s, '{"func": "PUT", "params": {"obj": "d9", "val": 1}, "params": 5}')
    check(r == {"status": "ERROR", "error": "params must be an object"}, f"last params 5: {r}")
    r = ask(s, '{"func": "PUT", "func": 5, "params": {"obj": "d9", "val": 1}}')
    check(r == {"status": "ERROR", "error": "func must be a string"}, f"last func 5: {r}")
    check(get(s, "d9") is None, "a refused duplicate stored something")
print("params: ok")
