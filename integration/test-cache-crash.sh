#!/bin/bash
# kill -9 of the client in the middle of reads, then a new mount on the same
# cache: the cache check at open keeps the good objects and drops leftovers,
# the mount succeeds, the tree listing and every byte are right. Done for a
# private cache and for a shared cache whose other mount keeps running, then
# during a cache cleanup and during a revision switch.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
mkdir -p "$SRC/d1" "$SRC/d2"
for i in $(seq 1 20); do head -c $((2000000 + i * 1234)) /dev/urandom > "$SRC/d$((i % 2 + 1))/f$i"; done
mkdir -p "$WORK/www/cvmfs"
for r in crash other; do
    "$BIN" publish "$SRC" "$WORK/www/cvmfs/$r.test.local" --name "$r.test.local" --keys "$WORK/keys" > /dev/null
done
start_nginx A "$WORK/www"

read_all() { # MOUNT: compares every file, fails on the first difference
    for i in $(seq 1 20); do cmp -s "$1/d$((i % 2 + 1))/f$i" "$SRC/d$((i % 2 + 1))/f$i" || return 1; done
}
kill9_during_reads() { # MOUNT: starts readers, kills the client with SIGKILL mid-way, clears the dead mount
    local mnt=$1 pid
    pid=$(getfattr --absolute-names --only-values -n user.pid "$mnt")
    ( read_all "$mnt" ) > /dev/null 2>&1 &
    local reader=$!
    # Let part of the files land in the cache, then kill.
    for _ in $(seq 40); do [ "$(find "$2" -type f -path '*/[0-9a-f][0-9a-f]/*' | wc -l)" -ge 6 ] && break; sleep 0.05; done
    kill -9 "$pid"
    wait "$reader" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "client $pid survived kill -9"
    umount -l "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
}
check_remount() { # NAME MOUNT CONFIG CACHEDIR
    local fqrn=$1 mnt=$2 conf=$3 cache=$4
    # A half-written download of the killed client, as a crash leaves it.
    head -c 5000 /dev/urandom > "$cache/txn/fetchDEADXX"
    mount_repo "$fqrn" "$mnt" "$conf" || fail "remount of $fqrn on the crashed cache"
    [ ! -e "$cache/txn/fetchDEADXX" ] || fail "stale temp file survived the cache check"
    diff <(cd "$SRC" && find . | sort) <(cd "$mnt" && find . | sort) > /dev/null || fail "tree listing after the crash"
    read_all "$mnt" || fail "bytes after the crash"
}

# Private cache.
write_config "$WORK/crash.conf" crash.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/crash.test.local.pub" "$WORK/cache"
mount_repo crash.test.local "$WORK/mnt" "$WORK/crash.conf"
kill9_during_reads "$WORK/mnt" "$WORK/cache/crash.test.local"
check_remount crash.test.local "$WORK/mnt" "$WORK/crash.conf" "$WORK/cache/crash.test.local"
unmount_repo "$WORK/mnt"
pass "private cache: kill -9 during reads, remount checks the cache, listing and bytes right"

# Shared cache: kill one of two mounts; the survivor keeps reading, the restart joins it.
for r in crash other; do
    write_config "$WORK/s-$r.conf" "$r.test.local" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
        "$WORK/keys/$r.test.local.pub" "$WORK/scache" "CVMFS_SHARED_CACHE=yes"
    mount_repo "$r.test.local" "$WORK/smnt-$r" "$WORK/s-$r.conf"
done
( read_all "$WORK/smnt-other" && echo ok > "$WORK/other.ok" ) &
survivor=$!
kill9_during_reads "$WORK/smnt-crash" "$WORK/scache/shared"
check_remount crash.test.local "$WORK/smnt-crash" "$WORK/s-crash.conf" "$WORK/scache/shared"
wait $survivor
[ -f "$WORK/other.ok" ] || fail "the surviving mount read wrong bytes"
read_all "$WORK/smnt-other" || fail "surviving mount after the restart"
unmount_repo "$WORK/smnt-crash"
unmount_repo "$WORK/smnt-other"
pass "shared cache: kill -9 of one mount, the other kept working, the restart passed the cache check"

# kill -9 during a cache cleanup (talk cleanup 0 evicts every unpinned object) while files are
# read, and during a revision switch (talk remount sync onto a revision with a 20,000-entry
# catalog). Wherever the kill lands, the next mount on that cache passes the cache check and
# shows the server's revision whole: its listing and bytes.
write_config "$WORK/c2.conf" crash.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/crash.test.local.pub" "$WORK/cache2"
talk2() { "$BIN" talk -i crash.test.local --config "$WORK/c2.conf" "$@"; }
mount_repo crash.test.local "$WORK/mnt2" "$WORK/c2.conf"
read_all "$WORK/mnt2" || fail "cleanup crash: first read"
pid=$(getfattr --absolute-names --only-values -n user.pid "$WORK/mnt2")
( read_all "$WORK/mnt2" ) > /dev/null 2>&1 &
reader=$!
talk2 cleanup 0 > /dev/null 2>&1 &
cleaner=$!
sleep 0.05
kill -9 "$pid"
wait "$reader" "$cleaner" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
umount -l "$WORK/mnt2" 2>/dev/null || fusermount3 -uz "$WORK/mnt2" 2>/dev/null || true
check_remount crash.test.local "$WORK/mnt2" "$WORK/c2.conf" "$WORK/cache2/crash.test.local"
pass "kill -9 during a cache cleanup: the remount passed the cache check, listing and bytes right"

# A new revision with many entries, so that the switch takes a moment.
mkdir -p "$SRC/many"
for i in $(seq 1 20000); do echo "$i" > "$SRC/many/e$i"; done
sleep 1
"$BIN" publish "$SRC" "$WORK/www/cvmfs/crash.test.local" --name crash.test.local --keys "$WORK/keys" > /dev/null
pid=$(getfattr --absolute-names --only-values -n user.pid "$WORK/mnt2")
talk2 remount sync > /dev/null 2>&1 &
switcher=$!
sleep 0.03
kill -9 "$pid"
wait "$switcher" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
umount -l "$WORK/mnt2" 2>/dev/null || fusermount3 -uz "$WORK/mnt2" 2>/dev/null || true
# Whether the killed client got as far as applying the switch (the kill is timed, not hooked).
if grep -q "switched to catalog revision 2" "$WORK/crash.test.local.debug.log"; then landed="after the switch"; else landed="before the switch completed"; fi
mount_repo crash.test.local "$WORK/mnt2" "$WORK/c2.conf" || fail "remount after kill -9 during the switch"
rev=$(talk2 revision)
[ "$rev" = 2 ] || fail "after the crash the mount is on revision $rev, wanted the server's 2"
diff <(cd "$SRC" && find . | sort) <(cd "$WORK/mnt2" && find . | sort) > /dev/null || fail "listing of revision 2 after the crash"
read_all "$WORK/mnt2" || fail "bytes after the crash during the switch"
[ "$(cat "$WORK/mnt2/many/e20000")" = 20000 ] || fail "a file of the new revision"
unmount_repo "$WORK/mnt2"
pass "kill -9 during a revision switch (landed $landed): the next mount is on revision 2, listing and bytes right"
