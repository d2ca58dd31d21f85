#!/usr/bin/env bash
# shmkv keys over 2,500 keys under three prefixes: paging (1,000 keys a page
# in shmkv, 7 in the library probe) lists each matching key exactly once, in
# byte order of the UTF-8 encoding, and nothing else.
. "$(dirname "$0")/lib.sh"
start_daemon
PROBE=$ROOT/$BUILD/test/client_probe

# The keys: "user/" 1,200, "User/" 800, "usér/" 500. Some end in U+1F600 or
# U+FF5E, whose UTF-8 order differs from their UTF-16 order. Loaded over one
# connection as a command script, each key a JSON string.
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
keys = []
for prefix, n in (("user/", 1200), ("User/", 800), ("us\u00e9r/", 500)):
    for i in range(n):
        keys.append(f"{prefix}{i}" + ("\U0001f600" if i % 97 == 0 else "") + ("\uff5e" if i % 89 == 0 else ""))
with open(f"{work}/commands", "w") as f:
    for i, key in enumerate(keys):
        f.write(f"put {json.dumps(key)} {i}\n")
def expect(name, prefix):
    with open(f"{work}/expect.{name}", "w") as f:
        for key in sorted((k for k in keys if k.startswith(prefix)), key=lambda k: k.encode()):
            f.write(key + "\n")
expect("all", "")
expect("user", "user/")
expect("User", "User/")
expect("usér", "us\u00e9r/")
expect("us", "us")
PY
"$SHMKV" -p "$PORT" <"$WORK/commands" || fail "loading 2,500 keys"

check_keys() {  # check_keys NAME [PREFIX]: shmkv keys PREFIX lists expect.NAME
  local name=$1
  shift
  "$SHMKV" -p "$PORT" keys "$@" >"$WORK/got.$name" || fail "keys $*: exit $?"
  cmp -s "$WORK/got.$name" "$WORK/expect.$name" ||
    fail "keys $*: $(diff "$WORK/expect.$name" "$WORK/got.$name" | head -5)"
}
check_keys all
check_keys user user/
check_keys User User/
check_keys usér usér/
check_keys us us
expect_eq "$("$SHMKV" -p "$PORT" keys | wc -l)" 2500 "shmkv keys | wc -l"
expect_eq "$("$SHMKV" -p "$PORT" keys user/ | wc -l)" 1200 "shmkv keys user/ | wc -l"
expect_eq "$("$SHMKV" -p "$PORT" keys us | sort | uniq -d | wc -l)" 0 "keys listed twice across pages"
run_cli -p "$PORT" keys nobody/
expect_eq "$RC:$OUT$ERR" "0:" "a prefix that matches nothing"

# Small pages, through the library: 500 keys in pages of 7.
"$PROBE" "$PORT" keys usér/ 7 >"$WORK/got.probe" 2>"$WORK/err.probe" || fail "probe keys: $(cat "$WORK/err.probe")"
cmp -s "$WORK/got.probe" "$WORK/expect.usér" || fail "library paging: $(diff "$WORK/expect.usér" "$WORK/got.probe" | head -5)"
expect_eq "$(cat "$WORK/err.probe")" "72 pages" "500 keys in pages of 7"

# The man page's example: delete every key under a prefix over one connection.
"$SHMKV" -p "$PORT" keys User/ | sed 's/^/del /' | "$SHMKV" -p "$PORT" || fail "deleting User/ keys"
expect_eq "$("$SHMKV" -p "$PORT" keys User/ | wc -l)" 0 "keys left under User/"
expect_eq "$("$SHMKV" -p "$PORT" keys | wc -l)" 1700 "keys left in all"
