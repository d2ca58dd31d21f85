#!/usr/bin/env bash
# Local readers never see a torn or wrong value (shmkv-protocol(7), Local
# readers): for about 4 s three writer connections rewrite, delete and expire
# keys with self-checking values of a few bytes to tens of KiB, while the
# index grows under them, and two reader processes verify every local read
# (build/test/local_stress). No bad read, no unexpected error, tens of
# thousands of reads, and every acknowledged write reads back at the end.
# It loads both cores: test/run-tests runs it alone (SERIAL).
. "$(dirname "$0")/lib.sh"
start_daemon --memory 256M
STRESS=$ROOT/$BUILD/test/local_stress

"$STRESS" "$PORT" "$NAME" 4 3 2 >"$WORK/out" 2>"$WORK/err" || {
  cat "$WORK/out"
  head -n 40 "$WORK/err" >&2
  fail "local_stress found bad reads or errors"
}
cat "$WORK/out"
[ ! -s "$WORK/err" ] || fail "local_stress wrote to stderr: $(head -n 5 "$WORK/err")"
# count NAME: the figure after NAME on local_stress's line.
count() { sed -nE "s/.*\\b$1 ([0-9]+).*/\\1/p" "$WORK/out"; }
reads=$(count reads)
found=$(count found)
writes=$(count writes)
deletes=$(count deletes)
busy=$(count busy)
checked=$(count final_checked)
expect_eq "$(count bad)" 0 "bad reads"
expect_eq "$(count errors)" 0 "unexpected errors"
# Floors that hold on a loaded 2-core machine: a local read takes
# microseconds, a pipelined write tens of them.
[ "$reads" -ge 10000 ] || fail "only $reads local reads in 4 s"
[ "$found" -ge 2000 ] || fail "only $found of $reads reads found a value to verify"
[ "$writes" -ge 2000 ] || fail "only $writes writes in 4 s"
[ "$deletes" -ge 100 ] || fail "only $deletes deletes in 4 s"
[ "$checked" -ge 2000 ] || fail "only $checked keys checked after the writes"
# Busy is a reader's last resort, not its habit.
[ "$busy" -le $((reads / 100)) ] || fail "$busy of $reads reads were busy"
# The index started at 1024 buckets and doubles beyond two keys a bucket:
# more than 4096 keys made it grow at least twice while the readers read.
run_cli -p "$PORT" stats --json
keys=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["keys"])' "$OUT")
[ "$keys" -gt 4096 ] || fail "only $keys keys at the end: the index did not grow twice"
run_cli -p "$PORT" stats --json
python3 -c 'import json, sys; s = json.loads(sys.argv[1]); sys.exit(s["store_status"] != "ok")' "$OUT" ||
  fail "store_status after the stress: $OUT"
echo "local readers: $reads reads ($found verified values), $writes writes, $deletes deletes, $keys keys: no bad read"
