#!/usr/bin/env bash
# Files planted by another user are refused, never followed or served: a
# symbolic link or a hard link at the --pidfile path, a pidfile in a
# directory every user may write without the sticky bit, a pidfile of
# another user, a store segment that another user made or may write, and a
# snapshot that another user made or may write, or a FIFO in its place.
# The other user is made here with useradd and removed at exit.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root to add a user"; exit 0; }
OTHER=shmkvt$$
# lib.sh's cleanup reads the exit status from $?: give it back after userdel.
trap 'rc=$?; set +e; stop_daemon; userdel "$OTHER" 2>/dev/null; (exit $rc); cleanup' EXIT
useradd --system --no-create-home --shell /usr/sbin/nologin "$OTHER"
other_uid=$(id -u "$OTHER")
as_other() { setpriv --reuid="$OTHER" --regid="$OTHER" --clear-groups -- "$@"; }

# refused WHAT PATTERN OPTION...: shmkvd exits 1 at start with a message
# matching PATTERN, and leaves no segment behind.
refused() {
  local what=$1 pattern=$2 rc=0
  shift 2
  timeout 20 "$SHMKVD" --bind 127.0.0.1 --port "$(free_port)" --name "$NAME" "$@" 2>"$WORK/refused.log" || rc=$?
  expect_eq "$rc" 1 "exit status with $what"
  grep -qE -- "$pattern" "$WORK/refused.log" || fail "$what: unclear refusal: $(cat "$WORK/refused.log")"
  echo "refused $what: $(sed 's/.*error: //' "$WORK/refused.log")"
}

# The pidfile. A symbolic link at its path is not followed: its target, and
# the file a dangling link names, stay as they were.
echo precious > "$WORK/target"
ln -s "$WORK/target" "$WORK/link.pid"
refused "a pidfile that is a symbolic link" "pidfile $WORK/link.pid is a symbolic link" --pidfile "$WORK/link.pid"
expect_eq "$(cat "$WORK/target")" precious "the planted link's target"
ln -s "$WORK/made-by-link" "$WORK/dangling.pid"
refused "a pidfile that is a dangling link" "is a symbolic link" --pidfile "$WORK/dangling.pid"
[ -e "$WORK/made-by-link" ] && fail "the dangling link's target was created"
ln "$WORK/target" "$WORK/hard.pid"
refused "a pidfile with a second name" "pidfile $WORK/hard.pid has 2 hard links" --pidfile "$WORK/hard.pid"
expect_eq "$(cat "$WORK/target")" precious "the hard link's other name"

# A directory that every user may write, without the sticky bit, is refused;
# with the sticky bit (as /tmp has) it is used.
mkdir -m 0777 "$WORK/open" "$WORK/sticky"
chmod 0777 "$WORK/open"
chmod 1777 "$WORK/sticky"
chmod 0711 "$WORK"  # so that the other user can reach the sticky directory
refused "a pidfile in a 0777 directory" "its directory $WORK/open \(mode 0777\) is writable by every user and not sticky" \
  --pidfile "$WORK/open/shmkvd.pid"
[ -e "$WORK/open/shmkvd.pid" ] && fail "a pidfile was made in the 0777 directory"
as_other touch "$WORK/sticky/theirs.pid"
refused "a pidfile of another user" "pidfile $WORK/sticky/theirs.pid belongs to uid $other_uid, not to shmkvd's uid 0" \
  --pidfile "$WORK/sticky/theirs.pid"
start_daemon --pidfile "$WORK/sticky/shmkvd.pid"
expect_eq "$(cat "$WORK/sticky/shmkvd.pid")" "$DAEMON_PID" "pidfile in a sticky directory"
stop_daemon
[ -e "$WORK/sticky/shmkvd.pid" ] && fail "pidfile left after exit"

# The segment. The other user runs shmkvd once under this test's --name,
# stores a key, stops it and makes the segment 0666.
rm -f "/dev/shm/$NAME"
PORT=$(free_port)
# setpriv execs shmkvd, so that $! is the daemon's pid.
setpriv --reuid="$OTHER" --regid="$OTHER" --clear-groups -- \
  "$SHMKVD" --bind 127.0.0.1 --port "$PORT" --name "$NAME" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!
wait_ready || fail "shmkvd as $OTHER did not start: $(tail -n 3 "$DAEMON_LOG")"
"$SHMKV" -p "$PORT" put planted '"theirs"'
stop_daemon
expect_eq "$(stat -c '%U %a' "/dev/shm/$NAME")" "$OTHER 600" "the other user's segment"
as_other chmod 0666 "/dev/shm/$NAME"
refused "a segment of another user, mode 0666" \
  "shared memory segment /dev/shm/$NAME belongs to $OTHER \(uid $other_uid\) with mode 0666 and group $OTHER \(gid [0-9]+\); shmkvd serves only a segment of its own user, root \(uid 0\), that no other user can read or write: remove it \(rm /dev/shm/$NAME\)"
as_other chmod 0600 "/dev/shm/$NAME"
refused "a segment of another user, mode 0600" "/dev/shm/$NAME belongs to $OTHER \(uid $other_uid\) with mode 0600"
rm -f "/dev/shm/$NAME"

# A segment of shmkvd's own user that others may write, or read, is refused
# too; made 0600 again, it is served with its data.
start_daemon
"$SHMKV" -p "$PORT" put mine '"ours"'
stop_daemon
for mode in 0666 0644 0660; do
  chmod "$mode" "/dev/shm/$NAME"
  refused "our segment made $mode" "/dev/shm/$NAME belongs to root \(uid 0\) with mode $mode"
done
chmod 0600 "/dev/shm/$NAME"
start_daemon
expect_eq "$("$SHMKV" -p "$PORT" get mine)" '"ours"' "the data of the segment made 0600 again"
stop_daemon

# The snapshot, loaded into a store just made (after a reboot): only a
# regular file of shmkvd's own user that no other user may write, in a
# directory others cannot replace it in. One of ours to copy:
mkdir -m 0700 "$WORK/state"
rm -f "/dev/shm/$NAME"
start_daemon --snapshot "$WORK/state/s.snap"
grep -q "no snapshot $WORK/state/s.snap yet: the store starts empty" "$DAEMON_LOG" || fail "a start without a snapshot was not logged"
"$SHMKV" -p "$PORT" put saved '"in the snapshot"'
stop_daemon
rm -f "/dev/shm/$NAME"
cp "$WORK/state/s.snap" "$WORK/sticky/theirs.snap"
chown "$OTHER:$OTHER" "$WORK/sticky/theirs.snap"
refused "a snapshot of another user" "snapshot $WORK/sticky/theirs.snap is not one shmkvd wrote: it belongs to uid $other_uid, not to shmkvd's uid 0" \
  --snapshot "$WORK/sticky/theirs.snap"
chmod 0666 "$WORK/state/s.snap"
refused "our snapshot made 0666" "snapshot $WORK/state/s.snap is not one shmkvd wrote: its mode 0666 lets other users write it" \
  --snapshot "$WORK/state/s.snap"
chmod 0600 "$WORK/state/s.snap"
cp -p "$WORK/state/s.snap" "$WORK/open/s.snap"
refused "a snapshot in a 0777 directory" "snapshot $WORK/open/s.snap: its directory $WORK/open \(mode 0777\) is writable by every user and not sticky" \
  --snapshot "$WORK/open/s.snap"
mkfifo "$WORK/state/fifo.snap"
refused "a FIFO at the snapshot's path" "snapshot $WORK/state/fifo.snap is not one shmkvd wrote: it is not a regular file" \
  --snapshot "$WORK/state/fifo.snap"
truncate -s 2G "$WORK/state/huge.snap"
refused "a snapshot larger than --memory" "snapshot $WORK/state/huge.snap is 2147483648 bytes, more than a store of [0-9]+ bytes can hold" \
  --memory 64M --snapshot "$WORK/state/huge.snap"
grep -q "move it aside" "$WORK/refused.log" && fail "a snapshot too large for --memory, maybe good, is called one to move aside"
[ -e "/dev/shm/$NAME" ] && fail "a refused snapshot left a segment"
# A directory named as a temporary file, which cannot be removed, is left
# with a warning, and the snapshot loads.
mkdir "$WORK/state/.s.snap.tmp-1.x"
start_daemon --snapshot "$WORK/state/s.snap"
expect_eq "$("$SHMKV" -p "$PORT" get saved)" '"in the snapshot"' "the snapshot loaded beside an entry that cannot be removed"
grep -q "remove $WORK/state/.s.snap.tmp-1.x: Is a directory: left in place" "$DAEMON_LOG" || fail "the entry left was not logged"
echo PASS
