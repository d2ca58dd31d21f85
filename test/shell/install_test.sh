#!/usr/bin/env bash
# make install DESTDIR=... installs the programs, man pages, units, the
# sysusers file and the local readers' library with its headers; every page renders with man -l without warnings; uninstall
# removes them again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

make -s -C "$ROOT" install BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr/local >/dev/null
expected="usr/local/bin/shmkv
usr/local/bin/shmkv-bench
usr/local/include/shmkv/local.h
usr/local/include/shmkv/local.hpp
usr/local/include/shmkv/status.hpp
usr/local/lib/libshmkv.so.0
usr/local/lib/systemd/system/shmkvd.service
usr/local/lib/systemd/system/shmkvd.socket
usr/local/lib/sysusers.d/shmkvd.conf
usr/local/sbin/shmkvd
$(cd "$ROOT/man" && for p in *.[0-9]; do echo "usr/local/share/man/man${p##*.}/$p"; done)"
got=$(cd "$dest" && find . -type f | sed 's|^\./||' | sort)
[ "$got" = "$(sort <<<"$expected")" ] || fail "installed files differ:
$(diff <(sort <<<"$expected") <(echo "$got"))"

[ -x "$dest/usr/local/sbin/shmkvd" ] || fail "shmkvd not executable"
"$dest/usr/local/sbin/shmkvd" --version | grep -q '^shmkvd ' || fail "installed shmkvd does not run"
grep -q '^ExecStart=/usr/local/sbin/shmkvd ' "$dest/usr/local/lib/systemd/system/shmkvd.service" ||
  fail "ExecStart not pointed at the installed shmkvd"
grep -q '^RemoveIPC=no' "$dest/usr/local/lib/systemd/system/shmkvd.service" || fail "RemoveIPC=no missing"

for page in "$dest"/usr/local/share/man/man*/*; do
  warnings=$(man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man -l $page: $warnings"
  [ "$(man -l "$page" 2>/dev/null | wc -l)" -gt 20 ] || fail "man -l $page rendered almost nothing"
done

make -s -C "$ROOT" uninstall DESTDIR="$dest" PREFIX=/usr/local >/dev/null
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "uninstall left: $left"
echo "installed and uninstalled $(wc -l <<<"$expected") files"
