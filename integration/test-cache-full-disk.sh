#!/bin/bash
# CVMFS_CACHE_BASE on a nearly full disk: a quota larger than the free space
# (a 24 MiB tmpfs under a 1000 MB quota). Reading more than fits gives an error
# for the read that cannot be stored, never wrong bytes; nothing partial stays
# in the cache; small files keep working and the mount stays up.
source "$(dirname "$0")/lib.sh"
DISK="$WORK/smalldisk"
cleanup_disk() {
    local status=$?
    for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && grep -q " $m " /proc/mounts && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }; done
    grep -q " $DISK " /proc/mounts && umount -l "$DISK"
    (exit $status); cleanup
}
trap cleanup_disk EXIT

SRC="$WORK/src"
mkdir -p "$SRC"
head -c 40000000 /dev/urandom > "$SRC/big.bin"
echo "small file" > "$SRC/small.txt"
"$BIN" publish "$SRC" "$WORK/www/cvmfs/full.test.local" --name full.test.local --keys "$WORK/keys" --no-chunking > /dev/null
start_nginx A "$WORK/www"
mkdir -p "$DISK"
mount -t tmpfs -o size=24m tmpfs "$DISK"
QUOTA_MB=1000 write_config "$WORK/f.conf" full.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/full.test.local.pub" "$DISK"
MNT="$WORK/cvmfs/full.test.local"
mount_repo full.test.local "$MNT" "$WORK/f.conf"

if cat "$MNT/big.bin" > "$WORK/big.out" 2> "$WORK/err"; then
    fail "a 40 MB file was read through a 24 MiB disk"
fi
grep -qE "Input/output error|No space left on device" "$WORK/err" || fail "full disk: wanted EIO or ENOSPC, got $(cat "$WORK/err")"
[ ! -s "$WORK/big.out" ] || fail "bytes were served from a failed fill"
leftovers=$(find "$DISK/full.test.local/txn" -type f | wc -l)
[ "$leftovers" = 0 ] || fail "$leftovers partial downloads left in txn/"
big_hash=$(getfattr --absolute-names --only-values -n user.hash "$MNT/big.bin")
[ ! -e "$DISK/full.test.local/${big_hash:0:2}/${big_hash:2}" ] || fail "the partial object entered the cache"
[ "$(cat "$MNT/small.txt")" = "small file" ] || fail "small file after the full-disk error"
pass "full disk: the big read fails cleanly ($(head -c 80 "$WORK/err")), nothing partial cached, the mount keeps working"
unmount_repo "$MNT"
