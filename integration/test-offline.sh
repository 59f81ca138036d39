#!/bin/bash
# Offline mode: with every host unreachable, a repository whose root catalog is
# in the cache still mounts, serves what is cached, says it is offline, and
# gives EIO (not wrong bytes) for what is not cached. With no cached copy the
# mount fails.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
mkdir -p "$SRC/d"
echo "read while online" > "$SRC/d/cached.txt"
echo "never read before" > "$SRC/d/uncached.txt"
"$BIN" publish "$SRC" "$WORK/www/cvmfs/off.test.local" --name off.test.local --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
write_config "$WORK/o.conf" off.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/off.test.local.pub" "$WORK/cache" CVMFS_TIMEOUT_DIRECT=2 CVMFS_MAX_RETRIES=0
MNT="$WORK/cvmfs/off.test.local"
mount_repo off.test.local "$MNT" "$WORK/o.conf"
cat "$MNT/d/cached.txt" > /dev/null
unmount_repo "$MNT"

# Every host unreachable: a closed port.
dead=$(free_port)
write_config "$WORK/o.conf" off.test.local "http://127.0.0.1:$dead/cvmfs/@fqrn@" \
    "$WORK/keys/off.test.local.pub" "$WORK/cache" CVMFS_TIMEOUT_DIRECT=2 CVMFS_MAX_RETRIES=0
mount_repo off.test.local "$MNT" "$WORK/o.conf"
[ "$(cat "$MNT/d/cached.txt")" = "read while online" ] || fail "cached file offline"
[ "$(ls "$MNT/d" | wc -l)" = 2 ] || fail "listing offline"
if cat "$MNT/d/uncached.txt" > /dev/null 2> "$WORK/err"; then fail "uncached file served offline"; fi
grep -q "Input/output error" "$WORK/err" || fail "uncached file offline: wanted EIO, got $(cat "$WORK/err")"
"$BIN" talk -i off.test.local --config "$WORK/o.conf" internal affairs | grep -q "^Offline: yes" || fail "talk does not say offline"
pass "offline mount serves the cached file, EIO for the rest, and says it is offline"
unmount_repo "$MNT"

# No cached copy at all: the mount fails with a download error.
rm -rf "$WORK/cache"
set +e
"$BIN" mount off.test.local "$MNT" -o "config=$WORK/o.conf" 2> "$WORK/mount.err"
code=$?
set -e
[ "$code" -ne 0 ] || fail "mounted with no server and no cache"
grep -q "off.test.local" "$WORK/mount.err" || fail "failure message names the repository"
pass "no server and no cached copy: mount refused (exit $code)"
