#!/usr/bin/env bash
# shmkv-bench --local (shmkv-protocol(7), Local readers): reader processes GET
# keys straight from the segment. With -p it first PUTs the keyspace through
# the daemon, so every GET finds its key; the counts add up, for one reader
# and for several, by -n and by -d; --json has the usual members; a missing
# segment exits 3 and options that --local refuses exit 2. Nothing is timed.
. "$(dirname "$0")/lib.sh"
BENCH=$ROOT/$BUILD/shmkv-bench
start_daemon

run() {  # run ARGS...: sets OUT, ERR and RC
  RC=0
  "$BENCH" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}

# Load 2000 keys through the daemon, then 10000 local GETs by one reader.
run --local "$NAME" -p "$PORT" -r 2000 -n 10000 --value-size 10
expect_eq "$RC" 0 "--local with -p: exit status (output: $OUT $ERR)"
[[ $OUT == *"local segment $NAME, 1 reader process"* ]] || fail "--local summary: $OUT"
[[ $OUT == *"requests     10000 in "*": 10000 ok (10000 found), 0 errors"* ]] || fail "--local counts: $OUT"
[[ $OUT == *"latency us   p50 "* ]] || fail "--local latency line: $OUT"
expect_eq "$("$SHMKV" -p "$PORT" get key:000000001999)" '"xxxxxxxx"' "a key --local PUT through the daemon"

# Three readers share -n; --json as for the other modes, with found.
run --local "$NAME" -r 2000 -c 3 -n 30001 --json
expect_eq "$RC" 0 "--local -c 3 --json: exit status (output: $OUT $ERR)"
python3 -c '
import json, sys
d = json.load(sys.stdin)
need = ["target", "mode", "connections", "pipeline", "requests", "ok", "errors", "error_replies",
        "wrong_replies", "connection_errors", "unanswered", "seconds", "requests_per_second",
        "latency_ms", "error_examples", "found"]
missing = [k for k in need if k not in d] + [k for k in ["p50", "p90", "p99", "p99.9", "max", "mean"]
                                             if k not in d["latency_ms"]]
assert not missing, f"missing fields: {missing}"
assert d["mode"] == "local" and d["target"] == "local:" + sys.argv[1] and d["connections"] == 3, d
assert d["requests"] == 30001 and d["ok"] == 30001 and d["found"] == 30001 and d["errors"] == 0, d
lat = d["latency_ms"]
assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"], lat
assert d["seconds"] > 0 and d["requests_per_second"] > 0, d
' "$NAME" <<<"$OUT" || fail "--local --json output: $OUT"

# A run by time ends by itself; keys beyond those stored are not found, not errors.
run --local "$NAME" -r 4000 -c 2 -d 0.5 --sequential --json
expect_eq "$RC" 0 "--local -d: exit status (output: $OUT $ERR)"
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["errors"] == 0 and d["requests"] > 1000 and 0 < d["found"] < d["requests"], d
assert 0.4 < d["seconds"] < 5, d
' <<<"$OUT" || fail "--local -d 0.5 over a keyspace half stored: $OUT"

# A missing segment exits 3 and says what to do; refused options exit 2.
run --local "$NAME-absent" -n 10
expect_eq "$RC" 3 "--local of a missing segment"
[[ $ERR == *"is shmkvd --name $NAME-absent running?"* ]] || fail "--local of a missing segment: $ERR"
for bad in "--get-ratio 0.5" "--incr" "-P 4" "--mode conn" "-c 257" "-n 10 -d 1"; do
  # shellcheck disable=SC2086
  run --local "$NAME" $bad
  expect_eq "$RC" 2 "shmkv-bench --local $bad"
  [[ $ERR == *"shmkv-bench --help"* ]] || fail "shmkv-bench --local $bad: $ERR"
done
run --local a/b -n 10
expect_eq "$RC" 2 "--local with a slash in the name"
echo "shmkv-bench --local: counts add up for 1, 2 and 3 readers"
