#!/usr/bin/env bash
# Each libFuzzer target (test/fuzz/*_fuzz.cpp) runs 30 s from its seed corpus
# without a crash, a leak or a broken invariant (make fuzz). Prints how many
# inputs each one ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! make -s fuzz FUZZ_SECONDS=30 >"$out" 2>&1; then
  cat "$out"
  echo "FAIL: a fuzz target crashed; its input is in build/fuzz/artifacts/" >&2
  exit 1
fi
cat "$out"
for src in test/fuzz/*_fuzz.cpp; do
  target=$(basename "$src" .cpp)
  runs=$(sed -nE "s/^$target: Done ([0-9]+) runs in [0-9]+ second\\(s\\)\$/\\1/p" "$out")
  [ -n "$runs" ] && [ "$runs" -gt 0 ] || { echo "FAIL: $target reported no runs" >&2; exit 1; }
  echo "$target: $runs executions"
done
