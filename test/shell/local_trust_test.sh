#!/usr/bin/env bash
# What a local reader (shmkv --local) trusts and how it fails
# (shmkv-protocol(7), LOCAL READERS): it reads a store whose name is as long
# as shmkvd serves; it refuses a segment that users other than its owner
# could write, naming its owner and mode; a store left inside a change with
# no shmkvd serving it says so instead of "busy, retry"; a segment truncated
# under the reader ends in a one-line error and exit 3, not "Bus error".
# The segments read here are copies of the daemon's (NAME.*, which lib.sh
# removes), so that the daemon's own is never damaged.
. "$(dirname "$0")/lib.sh"
# A name of 201 bytes, longer than readers used to take.
NAME=$NAME-$(printf '%*s' $((200 - ${#NAME})) '' | tr ' ' n)
expect_eq "${#NAME}" 201 "the test's segment name length"
start_daemon --memory 1M
"$SHMKV" -p "$PORT" put colour '"blue"'

# 1. Names: as long as shmkvd serves, up to what a file in /dev/shm can be.
run_cli --local "$NAME" get colour
expect_eq "$RC:$OUT" '0:"blue"' "--local with a 201-byte name"
long=$(printf '%*s' 256 '' | tr ' ' n)
run_cli --local "$long" get colour
expect_eq "$RC" 2 "--local with a 256-byte name: exit status"
expect_eq "$ERR" "shmkv: bad segment name \"$long\": a segment name is 1 to 255 bytes without a slash (see 'shmkv --help')" \
  "--local with a 256-byte name: stderr"

# copy SUFFIX: a copy of the daemon's segment, /dev/shm/NAME.SUFFIX (root's, 0600).
copy() {
  cp "/dev/shm/$NAME" "/dev/shm/$NAME.$1"
  chmod 0600 "/dev/shm/$NAME.$1"
}

# 2. A segment that users other than its owner could write is refused before
# a byte of it is read, as shmkvd refuses it.
copy planted
# Another user's, when the test may give it away (root).
owner="$(id -un) (uid $(id -u))"
if [ "$(id -u)" = 0 ]; then
  chown nobody "/dev/shm/$NAME.planted"
  owner="nobody (uid $(id -u nobody))"
fi
chmod 0666 "/dev/shm/$NAME.planted"
run_cli --local "$NAME.planted" get colour
expect_eq "$RC" 3 "--local of a segment of mode 0666: exit status"
expect_eq "$OUT" "" "--local of a segment of mode 0666: output"
path=/dev/shm/$NAME.planted
expect_eq "$ERR" "shmkv: shared memory segment $path belongs to $owner with mode 0666: users \
other than its owner could have written it, so its keys are not read; shmkvd never makes such a segment (its mode \
is 0600, or 0640, 0604 or 0644 with --segment-mode): remove it (rm $path) and restart shmkvd --name $NAME.planted, \
or, if you trust what is in it, chmod it 0600 or to shmkvd's --segment-mode" "--local of a segment of mode 0666: stderr"
rc=0
err=$(SHMKV_LIB="$ROOT/$BUILD/libshmkv.so" python3 "$ROOT/examples/local_reader.py" "$NAME.planted" colour 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "examples/local_reader.py read a segment of mode 0666"
[[ $err == *"users other than its owner could have written it, so it is not read"* ]] ||
  fail "examples/local_reader.py on a segment of mode 0666 said: $err"
chmod 0620 "$path"
run_cli --local "$NAME.planted" keys
expect_eq "$RC" 3 "--local keys of a segment of mode 0620: exit status"
# What the owner of /dev/shm/NAME wrote is trusted, whoever that is.
chmod 0644 "$path"
run_cli --local "$NAME.planted" get colour
expect_eq "$RC:$OUT" '0:"blue"' "--local of $owner's segment of mode 0644"
mkdir -m 0755 "/dev/shm/$NAME.dir"
run_cli --local "$NAME.dir" get colour
rmdir "/dev/shm/$NAME.dir"
expect_eq "$RC" 3 "--local of a directory: exit status"
case $ERR in
  "shmkv: shared memory segment /dev/shm/$NAME.dir belongs to $(id -un) (uid $(id -u)) with mode 0755 and is a directory, not a regular file: "*) ;;
  *) fail "--local of a directory: stderr: $ERR" ;;
esac

# 3. A writer that died inside a change leaves the sequence odd; with no
# shmkvd holding the segment's lock nothing will recover it, and the reader
# says so. With the lock held (as a serving shmkvd holds it) it is busy.
copy odd
/usr/bin/python3 - "/dev/shm/$NAME.odd" <<'EOF'
import struct, sys
path = sys.argv[1]
data = open(path, "rb").read(1 << 16)
magic = struct.pack("<Q", 0x73686D6B762D6B76)  # src/store/segment_format.hpp: kMagic
root = next(i for i in range(0, len(data) - 40, 8)
            if data[i:i + 8] == magic and struct.unpack_from("<Q", data, i + 32)[0] == i)  # root_offset::kSelf
changes = struct.unpack_from("<Q", data, root + 16)[0]  # root_offset::kChanges
with open(path, "r+b") as f:
    f.seek(root + 16)
    f.write(struct.pack("<Q", changes | 1))
EOF
run_cli --local "$NAME.odd" get colour
expect_eq "$RC" 3 "--local of a store left inside a change: exit status"
expect_eq "$ERR" "shmkv: store $NAME.odd was left inside a change or a recovery by a writer that died, and no shmkvd \
serves it: start shmkvd --name $NAME.odd to recover it" "--local of a store left inside a change, no shmkvd"
flock -s "/dev/shm/$NAME.odd" sleep 60 &
HELPER_PIDS+=($!)
inode=$(stat -c %i "/dev/shm/$NAME.odd")
for i in $(seq 100); do
  grep -q "FLOCK .*:$inode " /proc/locks && break
  sleep 0.05
done
run_cli --local "$NAME.odd" keys
expect_eq "$RC" 3 "--local of a store left inside a change, lock held: exit status"
expect_eq "$ERR" "shmkv: store $NAME.odd kept changing through every retry: busy, retry" \
  "--local of a store left inside a change, lock held"
stop_helpers

# 4. A segment truncated under a reader that has it mapped: the next read
# touches pages past the new end (SIGBUS).
copy cut
mkfifo "$WORK/commands"
"$SHMKV" --local "$NAME.cut" <"$WORK/commands" >"$WORK/cut.out" 2>"$WORK/cut.err" &
reader=$!
HELPER_PIDS+=($reader)
exec 3>"$WORK/commands"
echo "get colour" >&3
for i in $(seq 100); do
  [ -s "$WORK/cut.out" ] && break
  sleep 0.05
done
expect_eq "$(cat "$WORK/cut.out")" '"blue"' "the reader's answer before the segment is cut"
truncate -s 0 "/dev/shm/$NAME.cut"
echo "get colour" >&3
exec 3>&-
rc=0
wait "$reader" || rc=$?
HELPER_PIDS=()  # reaped: its pid is no longer ours to kill
expect_eq "$rc" 3 "a reader whose segment was truncated under it: exit status"
expect_eq "$(cat "$WORK/cut.err")" "shmkv: shared memory segment /dev/shm/$NAME.cut was truncated while it was read \
(SIGBUS): shmkvd never does that, so the file's owner or a program it runs did: find what truncates it" \
  "a reader whose segment was truncated under it: stderr"
# shmkv-bench's readers, killed the same way, are reported with the signal.
copy cutbench
"$ROOT/$BUILD/shmkv-bench" --local "$NAME.cutbench" -c 1 -d 5 -r 10 >"$WORK/bench.out" 2>"$WORK/bench.err" &
bench=$!
HELPER_PIDS+=($bench)
sleep 0.5
truncate -s 0 "/dev/shm/$NAME.cutbench"
rc=0
wait "$bench" || rc=$?
HELPER_PIDS=()
[ "$rc" != 0 ] || fail "shmkv-bench --local succeeded although its segment was cut"
grep -q "reader process [0-9]* ended without its counts, killed by signal 7 (Bus error)" "$WORK/bench.err" ||
  fail "shmkv-bench --local with its segment cut said: $(cat "$WORK/bench.err")"
run_cli -p "$PORT" get colour
expect_eq "$OUT" '"blue"' "the daemon serves on beside the copies"
echo "local readers read long names, refuse segments others could write, tell a dead writer from a busy one, and survive a truncated segment"
