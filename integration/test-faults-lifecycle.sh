#!/bin/bash
# How a mount ends, with what the user sees:
# - SIGTERM and SIGINT to a foreground mount (`mount -f`): a clean unmount, the process exits 0,
#   the mount point is an empty directory again and the talk socket is gone;
# - the FUSE connection aborted (echo 1 > /sys/fs/fuse/connections/N/abort): the daemon exits,
#   the mount point answers ENOTCONN until it is unmounted (or is already gone), and a new
#   mount with the same cache reads every file right without fetching what was cached.
source "$(dirname "$0")/lib.sh"
# The abort files live in the fusectl file system; mounted here only if it is not (and then
# unmounted again at the end).
FUSECTL=/sys/fs/fuse/connections
OWN_FUSECTL=no
cleanup_fusectl() {
    local status=$?
    for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && grep -q " $m fuse" /proc/mounts && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }; done
    [ "$OWN_FUSECTL" = yes ] && umount "$FUSECTL" 2>/dev/null
    (exit $status); cleanup
}
trap cleanup_fusectl EXIT

FQRN=life.test.local
SRC="$WORK/src"
mkdir -p "$SRC/d"
for i in $(seq 1 6); do head -c $((100000 * i)) /dev/urandom > "$SRC/d/f$i"; done
"$BIN" publish "$SRC" "$WORK/www/cvmfs/$FQRN" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
write_config "$WORK/l.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT="$WORK/cvmfs/$FQRN"
mkdir -p "$MNT"
MOUNTS+=("$MNT")
mounted() { grep -q " $MNT fuse" /proc/mounts; }
read_all() { for i in $(seq 1 6); do cmp -s "$SRC/d/f$i" "$MNT/d/f$i" || return 1; done; }

# 1. A foreground mount stopped with SIGTERM, then with SIGINT.
for sig in TERM INT; do
    # A non-interactive shell starts background jobs with SIGINT ignored, and libfuse (like any
    # program) leaves an inherited SIG_IGN alone; a terminal's Ctrl-C finds it at its default.
    env --default-signal=INT "$BIN" mount "$FQRN" "$MNT" -o "config=$WORK/l.conf" -f > "$WORK/fg-$sig.out" 2> "$WORK/fg-$sig.err" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do mounted && break; sleep 0.05; done
    mounted || fail "SIG$sig: the foreground mount did not come up: $(cat "$WORK/fg-$sig.err")"
    read_all || fail "SIG$sig: reads before the signal"
    socket=$(xattr "$MNT" talk_socket)
    [ -S "$socket" ] || fail "SIG$sig: no talk socket at $socket"
    exec 3< "$MNT/d/f1"     # a file held open does not keep the mount alive
    kill -"$sig" "$pid"
    code=0
    wait "$pid" || code=$?
    exec 3<&-
    [ "$code" = 0 ] || fail "SIG$sig: the mount process exited $code: $(tail -3 "$WORK/fg-$sig.err")"
    mounted && fail "SIG$sig: still in /proc/mounts after the process exited"
    [ -z "$(ls -A "$MNT")" ] || fail "SIG$sig: the mount point is not an empty directory again"
    [ ! -e "$socket" ] || fail "SIG$sig: the talk socket $socket stayed behind"
    pass "SIG$sig to a foreground mount: exit 0, unmounted, mount point empty, talk socket removed"
done

# 2. The FUSE connection aborted under a mounted daemon, in the middle of use.
mount_repo "$FQRN" "$MNT" "$WORK/l.conf"
pid=$(xattr "$MNT" pid)
read_all || fail "abort: reads before the abort"
requests_before=$(grep -c " 200 " "$NGINX_LOG_A")
conn=$(mountpoint -d "$MNT" | cut -d: -f2)
if ! grep -q " $FUSECTL fusectl" /proc/mounts; then mount -t fusectl fusectl "$FUSECTL"; OWN_FUSECTL=yes; fi
[ -e "$FUSECTL/$conn/abort" ] || fail "abort: no $FUSECTL/$conn/abort"
echo 1 > "$FUSECTL/$conn/abort"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "abort: the daemon $pid kept running after its connection was aborted"
if mounted; then
    if ls "$MNT" > /dev/null 2> "$WORK/abort.err"; then fail "abort: the dead mount still answered"; fi
    grep -q "Transport endpoint is not connected" "$WORK/abort.err" || fail "abort: wanted ENOTCONN, got $(cat "$WORK/abort.err")"
    left="left in the mount table (ENOTCONN) until unmounted"
    fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
else
    left="removed from the mount table by the daemon"
fi
mounted && fail "abort: could not unmount the aborted mount"
mount_repo "$FQRN" "$MNT" "$WORK/l.conf"
read_all || fail "abort: the new mount on the same cache read wrong bytes"
requests_after=$(grep -c " 200 " "$NGINX_LOG_A")
# Manifest, whitelist and nothing else (the certificate and catalog come from the cache).
[ $((requests_after - requests_before)) -le 2 ] || fail "abort: the new mount fetched $((requests_after - requests_before)) files again; the cache was not reused"
unmount_repo "$MNT"
pass "FUSE connection aborted: daemon exited, mount $left, a new mount on the same cache read all files ($((requests_after - requests_before)) requests)"
