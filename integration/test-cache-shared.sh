#!/bin/bash
# Two mounts of different repositories share one cache directory
# (CVMFS_SHARED_CACHE=yes, <CVMFS_CACHE_BASE>/shared) at the same time: both
# read right while they read four times the shared quota together, files held
# open stay readable, and the shared directory never exceeds the quota.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

mkdir -p "$WORK/www/cvmfs"
for r in a b; do
    mkdir -p "$WORK/src-$r/data"
    for i in $(seq 1 24); do head -c $((3000000 + i * 777)) /dev/urandom > "$WORK/src-$r/data/f$i"; done
    "$BIN" publish "$WORK/src-$r" "$WORK/www/cvmfs/share$r.test.local" --name "share$r.test.local" --keys "$WORK/keys" > /dev/null
done
start_nginx A "$WORK/www"
QUOTA=40
for r in a b; do
    QUOTA_MB=$QUOTA write_config "$WORK/$r.conf" "share$r.test.local" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
        "$WORK/keys/share$r.test.local.pub" "$WORK/cache" "CVMFS_SHARED_CACHE=yes"
    mount_repo "share$r.test.local" "$WORK/mnt-$r" "$WORK/$r.conf"
done
[ -d "$WORK/cache/shared" ] || fail "no shared cache directory"
[ ! -e "$WORK/cache/sharea.test.local" ] || fail "a private cache directory was made"
pass "two repositories mounted at once on one shared cache directory"

# Hold two files of each repository open for the whole test (pinned).
exec 3< "$WORK/mnt-a/data/f1" 4< "$WORK/mnt-a/data/f2" 5< "$WORK/mnt-b/data/f1" 6< "$WORK/mnt-b/data/f2"
max=0
pids=()
for r in a b; do
    for pass in 1 2; do
        ( for i in $(seq 1 24); do cmp -s "$WORK/mnt-$r/data/f$i" "$WORK/src-$r/data/f$i" || exit 1; done ) &
        pids+=($!)
    done
done
running=1
while [ $running = 1 ]; do
    running=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
    used=$(cache_bytes "$WORK/cache/shared"); [ "$used" -gt "$max" ] && max=$used
    sleep 0.05
done
for p in "${pids[@]}"; do wait "$p" || fail "a reader got wrong bytes (or an error) on the shared cache"; done
limit=$((QUOTA * 1024 * 1024))
[ "$max" -le "$limit" ] || fail "shared cache reached $max bytes, over the $QUOTA MiB quota"
pass "both mounts read 4x the shared quota right; the cache peaked at $((max / 1048576)) MiB of $QUOTA"

cmp -s /dev/fd/3 "$WORK/src-a/data/f1" && cmp -s /dev/fd/4 "$WORK/src-a/data/f2" || fail "open file of a changed"
cmp -s /dev/fd/5 "$WORK/src-b/data/f1" && cmp -s /dev/fd/6 "$WORK/src-b/data/f2" || fail "open file of b changed"
exec 3<&- 4<&- 5<&- 6<&-
pass "files held open through the eviction still read right"

for r in a b; do
    diff <(cd "$WORK/src-$r" && find . | sort) <(cd "$WORK/mnt-$r" && find . | sort) > /dev/null || fail "tree listing of $r"
done
pass "tree listings of both repositories are right"

unmount_repo "$WORK/mnt-a"
cmp -s "$WORK/mnt-b/data/f24" "$WORK/src-b/data/f24" || fail "b after a left"
unmount_repo "$WORK/mnt-b"
pass "one mount leaves, the other keeps working"
