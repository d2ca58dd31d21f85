#!/bin/sh
# counter.sh: a visit counter shared by every script on the host, kept in
# shmkvd with shmkv(1).
#
#   counter.sh PAGE   count a visit to PAGE and print its new count
#   counter.sh        print every page's count, the most visited first
#
# shmkv finds the server as always: -h/-p/-s are not used here, so set
# SHMKV_HOST, SHMKV_PORT or SHMKV_SOCKET. Two visits counted at the same
# instant may count as one: the protocol has no atomic increment, so this
# suits statistics, not money.
set -eu

if [ $# -eq 0 ]; then
  shmkv keys visits: | while IFS= read -r key; do
    printf '%s %s\n' "$(shmkv get -r "$key")" "${key#visits:}"
  done | sort -k1,1nr -k2,2
  exit 0
fi

key="visits:$1"
# get exits 1 when the key is not set: the first visit, nothing to report.
# Anything else (2 or 3) is an error, and its message is passed on.
if count=$(shmkv get -r "$key" 2>&1); then :; else
  status=$?
  if [ "$status" -ne 1 ]; then
    echo "$count" >&2
    exit "$status"
  fi
  count=0
fi
count=$((count + 1))
shmkv put "$key" "$count"
echo "$count"
