#!/usr/bin/env bash
# shmkv put --ttl/--if-absent/--if-present, incr, expire and ttl: output and
# exit statuses.
. "$(dirname "$0")/lib.sh"
start_daemon
C=(-p "$PORT")

run_cli "${C[@]}" put --ttl 100 --if-absent lock '"me"'
expect_eq "$RC" 0 "put --if-absent of an absent key"
run_cli "${C[@]}" put --if-absent lock '"you"'
expect_eq "$RC" 1 "put --if-absent of a set key"
expect_eq "$ERR" 'shmkv: "lock" was not stored: it is set already (--if-absent)' "its message"
run_cli "${C[@]}" get lock
expect_eq "$OUT" '"me"' "the first holder keeps the key"
run_cli "${C[@]}" ttl lock
case "$OUT" in 99.*|100.000) ;; *) fail "ttl after --ttl 100: '$OUT'" ;; esac
run_cli "${C[@]}" put --if-present nothing 1
expect_eq "$RC" 1 "put --if-present of an absent key"
run_cli "${C[@]}" put --if-present --if-absent k 1
expect_eq "$RC" 2 "both conditions"
for bad in 0 -1 -0 abc 1e400 315360001 0.0001 ''; do
  run_cli "${C[@]}" put --ttl "$bad" k 1
  expect_eq "$RC" 2 "put --ttl '$bad'"
  run_cli "${C[@]}" expire lock "$bad"
  expect_eq "$RC" 2 "expire lock '$bad'"
done
run_cli "${C[@]}" get k
expect_eq "$RC" 1 "a refused put stored nothing"

run_cli "${C[@]}" incr hits
expect_eq "$OUT" 1 "incr of an absent key"
run_cli "${C[@]}" incr hits 41
expect_eq "$OUT" 42 "incr by 41"
run_cli "${C[@]}" incr hits -50
expect_eq "$OUT" -8 "incr by -50"
run_cli "${C[@]}" incr hits 1.5
expect_eq "$RC" 2 "incr by 1.5"
run_cli "${C[@]}" incr lock
expect_eq "$RC" 3 "incr of a string"
run_cli "${C[@]}" get hits
expect_eq "$OUT" -8 "the refused incr changed nothing"

run_cli "${C[@]}" expire hits 2.5
expect_eq "$RC" 0 "expire"
run_cli "${C[@]}" ttl hits
case "$OUT" in 2.*) ;; *) fail "ttl after expire 2.5: '$OUT'" ;; esac
run_cli "${C[@]}" expire hits none
run_cli "${C[@]}" ttl hits
expect_eq "$OUT" -1 "ttl after expire none"
run_cli "${C[@]}" ttl nope
expect_eq "$RC" 1 "ttl of an absent key"
run_cli "${C[@]}" expire nope 5
expect_eq "$RC" 1 "expire of an absent key"
run_cli "${C[@]}" put --ttl=0.2 brief 1
sleep 0.4
run_cli "${C[@]}" get brief
expect_eq "$RC" 1 "a key after its ttl"

# The same commands on standard input.
printf 'incr n 5\nput --ttl 60 --if-absent "a b" [1]\nttl "a b"\nput --if-absent "a b" 2\n' >"$WORK/cmds"
RC=0
"$SHMKV" "${C[@]}" <"$WORK/cmds" >"$WORK/out" 2>"$WORK/err" || RC=$?
expect_eq "$(head -1 "$WORK/out")" 5 "incr on stdin"
expect_eq "$RC" 1 "a conditional put not stored on stdin"
grep -q '^60.000$\|^59\.' "$WORK/out" || fail "ttl on stdin: $(cat "$WORK/out")"
echo "cli_expiry: ok"
