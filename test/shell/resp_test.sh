#!/usr/bin/env bash
# RESP with the real redis-cli (shmkv-protocol(7), RESP): commands, --raw, -3
# (RESP3), --pipe loading, Redis's error texts, the cross-protocol value
# mapping with the JSON CLI, a RESP UNIX socket, and malformed RESP: the
# protocol error, a close, nothing stored changed, and the worker serving
# its next connection.
. "$(dirname "$0")/lib.sh"
RESP=1 start_daemon --resp-socket "$WORK/resp.sock" --spare-workers 1
cli() { timeout 10 redis-cli -p "$RESP_PORT" "$@"; }

expect_eq "$(cli ping)" "PONG" "PING"
expect_eq "$(cli set greeting 'hello world')" "OK" "SET"
expect_eq "$(cli get greeting)" "hello world" "GET"
expect_eq "$(cli --raw get nope)" "" "GET of a missing key (--raw)"
expect_eq "$(cli get nope)" "" "GET of a missing key"
expect_eq "$(cli --no-raw -3 get nope)" "(nil)" "GET of a missing key in RESP3 (_)"
expect_eq "$(cli mset a 1 b 2)" "OK" "MSET"
expect_eq "$(cli --raw mget a nope b | tr '\n' ,)" "1,,2," "MGET"
expect_eq "$(cli append a 23)" "3" "APPEND"
expect_eq "$(cli strlen a)" "3" "STRLEN"
expect_eq "$(cli exists a b nope)" "2" "EXISTS"
expect_eq "$(cli type a)" "string" "TYPE"
expect_eq "$(cli del a b nope)" "2" "DEL"
expect_eq "$(cli select 0)" "OK" "SELECT 0"
expect_eq "$(cli select 1)" "ERR DB index is out of range" "SELECT 1"
expect_eq "$(cli hset h f v)" "ERR unknown command 'hset', with args beginning with: 'h' 'f' 'v' " "unknown command"
expect_eq "$(cli get)" "ERR wrong number of arguments for 'get' command" "wrong arity"
expect_eq "$(cli --no-raw -3 hello 3 | head -n 2 | tr '\n' ,)" "1# \"server\" => \"redis\",2# \"version\" => \"7.0.0\"," "HELLO 3 (a RESP3 map)"
expect_eq "$(cli --raw info keyspace | tr -d '\r' | tail -n 1)" "db0:keys=1,expires=0,avg_ttl=0" "INFO keyspace"
expect_eq "$(cli config get databases | tr '\n' ,)" "databases,1," "CONFIG GET"
expect_eq "$(cli dbsize)" "1" "DBSIZE"
expect_eq "$(timeout 10 redis-cli -s "$WORK/resp.sock" get greeting)" "hello world" "GET over the RESP UNIX socket"

# Cross-protocol: a JSON PUT read over RESP, a RESP SET read over JSON.
"$SHMKV" -p "$PORT" put jstr '"caf\u00e9"' >/dev/null
"$SHMKV" -p "$PORT" put jobj '{"a": [1, 2]}' >/dev/null
expect_eq "$(cli --raw get jstr)" "café" "a JSON string read over RESP"
expect_eq "$(cli --raw get jobj)" '{"a": [1, 2]}' "a JSON object read over RESP"
cli set rstr 'tab	"quoted"' >/dev/null
expect_eq "$("$SHMKV" -p "$PORT" get rstr)" '"tab\t\"quoted\""' "a RESP value read over JSON"

# --pipe loading: 2,000 SETs in RESP, then KEYS, SCAN and DBSIZE agree.
python3 - "$WORK/pipe" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(2000):
        k, v = f"load:{i:05}".encode(), f"value {i}".encode()
        f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
cli --pipe <"$WORK/pipe" >"$WORK/pipe.out" 2>&1 || fail "redis-cli --pipe: $(cat "$WORK/pipe.out")"
grep -q 'errors: 0, replies: 2000' "$WORK/pipe.out" || fail "redis-cli --pipe: $(cat "$WORK/pipe.out")"
expect_eq "$(cli keys 'load:*' | wc -l)" "2000" "KEYS load:*"
expect_eq "$(cli keys 'load:0001?' | tr '\n' ,)" "load:00010,load:00011,load:00012,load:00013,load:00014,load:00015,load:00016,load:00017,load:00018,load:00019," "KEYS with ?"
expect_eq "$(cli --scan --pattern 'load:*' | sort -u | wc -l)" "2000" "redis-cli --scan"
expect_eq "$(cli get load:01999)" "value 1999" "a piped value"
expect_eq "$(cli dbsize)" "2004" "DBSIZE after loading"

# Expiry, INCR and SETNX (shmkv-protocol(7), RESP commands), and INCR of a
# JSON integer, whose result JSON reads.
expect_eq "$(cli set session v EX 100)" "OK" "SET EX"
ttl=$(cli ttl session)
[[ "$ttl" == 100 || "$ttl" == 99 ]] || fail "TTL after SET EX 100: $ttl"
expect_eq "$(cli --raw info keyspace | tr -d '\r' | tail -n 1)" "db0:keys=2005,expires=1,avg_ttl=0" "INFO keyspace expires="
expect_eq "$(cli incr counter)" "1" "INCR"
expect_eq "$(cli incrby counter 41)" "42" "INCRBY"
expect_eq "$("$SHMKV" -p "$PORT" get counter)" "42" "an INCR result read over JSON"
"$SHMKV" -p "$PORT" put jnum 5 >/dev/null
expect_eq "$(cli incr jnum)" "6" "INCR of a JSON integer"
expect_eq "$(cli incr greeting)" "ERR value is not an integer or out of range" "INCR of text"
expect_eq "$(cli setnx counter 0)" "0" "SETNX of a present key"
expect_eq "$(cli setnx fresh 1)" "1" "SETNX of an absent key"
expect_eq "$(cli get counter)" "42" "SETNX left the present key"

# Malformed RESP: Redis's error, then a close; the next connection is served
# (one spare worker, so usually by the same worker).
cd "$ROOT/test/shell"
python3 - "$RESP_PORT" <<'PY' || fail "malformed RESP"
import sys
from resp_wire import connect, exchange
port = int(sys.argv[1])
cases = [
    (b"*2\r\n$3\r\nGET\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$2000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1048577\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n:5\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"SET \"unbalanced x\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
]
for data, want in cases:
    got = exchange(port, data + b"*1\r\n$4\r\nPING\r\n")
    if got != want:
        sys.exit(f"{data!r}: got {got!r}, want {want!r}")
# A command cut off by the client's close is not run; the next connection is served.
s = connect(port)
s.sendall(b"*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$2\r\nxy")
s.close()
got = exchange(port, b"*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n*1\r\n$4\r\nQUIT\r\n")
if got != b"$11\r\nhello world\r\n+OK\r\n":
    sys.exit(f"after malformed input: got {got!r}")
PY
grep -q 'closing RESP connection from 127.0.0.1:[0-9]*: ERR Protocol error: invalid bulk length (bytes: \*2' "$DAEMON_LOG" ||
  fail "no log line for a protocol error"
expect_eq "$(cli get greeting)" "hello world" "the stored value after malformed input"
kill -0 "$DAEMON_PID" || fail "shmkvd died"
echo "ok resp"
