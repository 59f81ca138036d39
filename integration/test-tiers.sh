#!/bin/bash
# The whole distribution tier on one machine: our publisher writes a stratum 0 served by nginx;
# two stratum 1 folders made by `snapshot`, each served by its own nginx; one squid; two client
# mounts reading the stratum 1s through the squid. Three revisions, each snapshotted to both
# replicas and seen by the clients after `talk remount`; one stratum 1 stopped, the clients go on
# from the other and never go back to an older revision; a snapshot killed halfway and rerun
# leaves a replica identical to the stratum 0; a lagging replica is not followed backwards;
# garbage collection after 10 revisions keeping 3; bad sources refused with the replica intact.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=tiers.test.local
SRC="$WORK/src"
S0="$WORK/s0/cvmfs/$FQRN"
KEY="$WORK/keys/$FQRN.pub"
mkdir -p "$SRC/sw/lib" "$WORK/s1a/cvmfs" "$WORK/s1b/cvmfs"
touch "$SRC/sw/.cvmfscatalog"
write_revision() {  # write_revision N: revision N's content (a changed file, a new file, a big file)
    echo "revision $1" > "$SRC/version"
    head -c $((20000 + $1)) /dev/urandom > "$SRC/sw/lib/lib$1.so"
    head -c 3000000 /dev/urandom > "$SRC/big"
}
publish() { "$BIN" publish "$SRC" "$S0" --name "$FQRN" --keys "$WORK/keys" "$@" > /dev/null; }
snapshot() { "$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_S0/cvmfs/$FQRN" "$WORK/$1/cvmfs/$FQRN" --key "$KEY" --quiet "${@:2}"; }
listing() { python3 "$LISTING" "$1"; }
revision_held() { grep -a '^S' "$1/.cvmfspublished" | head -1 | cut -c2-; }
remount() { "$BIN" talk -p "$(getfattr --absolute-names --only-values -n user.talk_socket "$1")" remount sync > "$WORK/remount.out" 2>&1 || { cat "$WORK/remount.out" >&2; return 1; }; }
# same_files A B: every file of replica folder B is byte-identical to A's (B may lack A's older objects).
same_files() {
    local f
    (cd "$2" && find . -type f ! -path './data/txn/*' ! -name .cvmfs_last_snapshot) | while read -r f; do
        cmp -s "$1/$f" "$2/$f" || { echo "$f differs"; return 1; }
    done
}

write_revision 1
publish --tag release-1
listing "$SRC" > "$WORK/list.1"
[ -f "$S0/.cvmfs_master_replica" ] && [ -f "$S0/.cvmfsreflog" ] || fail "the stratum 0 has no replica marker or reflog"
start_nginx S0 "$WORK/s0"
start_nginx S1A "$WORK/s1a"
start_nginx S1B "$WORK/s1b"
start_squid Q
snapshot s1a && snapshot s1b
same_files "$S0" "$WORK/s1a/cvmfs/$FQRN" && same_files "$S0" "$WORK/s1b/cvmfs/$FQRN" || fail "a replica differs from the stratum 0"
pass "two stratum 1s made by snapshot are byte-identical copies of revision 1"

URLS="http://127.0.0.1:$NGINX_PORT_S1A/cvmfs/@fqrn@;http://127.0.0.1:$NGINX_PORT_S1B/cvmfs/@fqrn@"
for c in 1 2; do
    write_config "$WORK/c$c.conf" "$FQRN" "$URLS" "$KEY" "$WORK/cache$c" "CVMFS_HTTP_PROXY=http://127.0.0.1:$SQUID_PORT_Q" \
        "CVMFS_TIMEOUT=2" "CVMFS_TIMEOUT_DIRECT=2" "CVMFS_MAX_RETRIES=0"
    mount_repo "$FQRN" "$WORK/mnt$c" "$WORK/c$c.conf"
done
revision_of() { getfattr --absolute-names --only-values -n user.revision "$WORK/mnt$1"; }
for c in 1 2; do
    [ "$(revision_of $c)" = 1 ] && [ "$(cat "$WORK/mnt$c/version")" = "revision 1" ] || fail "client $c does not serve revision 1"
done
pass "two clients read revision 1 from the stratum 1s through squid"

for r in 2 3; do
    write_revision $r
    publish
    snapshot s1a && snapshot s1b
    for c in 1 2; do
        remount "$WORK/mnt$c"
        [ "$(revision_of $c)" = $r ] || fail "client $c: revision $(revision_of $c) after remount, wanted $r"
        [ "$(listing "$WORK/mnt$c")" = "$(listing "$SRC")" ] || fail "client $c: revision $r lists differently from its source"
    done
done
grep -q "127.0.0.1:$NGINX_PORT_S1A\|127.0.0.1:$NGINX_PORT_S1B" "$SQUID_LOG_Q" || fail "squid saw no request to a stratum 1"
pass "revisions 2 and 3: snapshot to both replicas, both clients switch at remount and list like the source"

# One stratum 1 stopped: the clients go on from the other.
kill "$(cat "$WORK/nginx-S1A/nginx.pid")"
sleep 0.3
for c in 1 2; do
    for f in "$SRC"/sw/lib/*; do cmp -s "$f" "$WORK/mnt$c/sw/lib/$(basename "$f")" || fail "client $c: $(basename "$f") wrong with S1A down"; done
    cmp -s "$SRC/big" "$WORK/mnt$c/big" || fail "client $c: big wrong with S1A down"
done
pass "with the first stratum 1 stopped both clients read everything from the second"

# A lagging replica: S1B stays on revision 3 while S1A (restarted) gets 4. A client that saw 4
# and then only reaches S1B stays on 4.
write_revision 4
publish
start_nginx S1A "$WORK/s1a"
snapshot s1a
write_config "$WORK/c3.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_S1A/cvmfs/@fqrn@;http://127.0.0.1:$NGINX_PORT_S1B/cvmfs/@fqrn@" "$KEY" \
    "$WORK/cache3" "CVMFS_TIMEOUT=2" "CVMFS_MAX_RETRIES=0"
mount_repo "$FQRN" "$WORK/mnt3" "$WORK/c3.conf"
[ "$(getfattr --absolute-names --only-values -n user.revision "$WORK/mnt3")" = 4 ] || fail "client 3 not on revision 4"
[ "$(cat "$WORK/mnt3/version")" = "revision 4" ] || fail "client 3 does not read revision 4"
kill "$(cat "$WORK/nginx-S1A/nginx.pid")"
sleep 0.3
remount "$WORK/mnt3" 2>/dev/null || true
[ "$(getfattr --absolute-names --only-values -n user.revision "$WORK/mnt3")" = 4 ] || fail "client 3 went back to the lagging replica's revision"
[ "$(cat "$WORK/mnt3/version")" = "revision 4" ] || fail "client 3 does not serve revision 4 any more"
grep -q "older than the newest copy already seen" "$WORK/$FQRN.debug.log" || fail "client 3 did not log the refused older manifest"
unmount_repo "$WORK/mnt3"
pass "a client that saw revision 4 stays on it when only the replica a revision behind answers"
start_nginx S1A "$WORK/s1a"

# Kill snapshot halfway (one download at a time through a 20 ms latency proxy), rerun:
# complete and identical, and only the rest is fetched.
write_revision 5
for i in $(seq 1 300); do head -c 3000 /dev/urandom > "$SRC/sw/lib/extra$i"; done
(cd "$S0" && find data -type f | sort) > "$WORK/objects.4"
publish
(cd "$S0" && find data -type f | sort) > "$WORK/objects.5"
start_latency_proxy L "$NGINX_PORT_S0" 20
base=$(grep -c "GET /cvmfs/$FQRN/data/" "$NGINX_LOG_S0")
"$BIN" snapshot "http://127.0.0.1:$LATENCY_PORT_L/cvmfs/$FQRN" "$WORK/s1b/cvmfs/$FQRN" --key "$KEY" --quiet --threads 1 &
spid=$!
n=0
for _ in $(seq 300); do
    n=$(( $(grep -c "GET /cvmfs/$FQRN/data/" "$NGINX_LOG_S0") - base ))
    [ "$n" -gt 100 ] && break
    sleep 0.05
done
kill -9 "$spid" 2>/dev/null || fail "snapshot ended before it could be killed"
wait "$spid" 2>/dev/null || true
[ "$(revision_held "$WORK/s1b/cvmfs/$FQRN")" = 3 ] || fail "the killed snapshot switched the replica to revision $(revision_held "$WORK/s1b/cvmfs/$FQRN")"
curl -fsS "http://127.0.0.1:$NGINX_PORT_S1B/cvmfs/$FQRN/.cvmfspublished" -o /dev/null || fail "S1B stopped serving"
before=$(grep -c "GET /cvmfs/$FQRN/data/" "$NGINX_LOG_S0")
snapshot s1b
after=$(grep -c "GET /cvmfs/$FQRN/data/" "$NGINX_LOG_S0")
same_files "$S0" "$WORK/s1b/cvmfs/$FQRN" || fail "the replica differs from the stratum 0 after the rerun"
"$BIN" verify "$WORK/s1b/cvmfs/$FQRN" --key "$KEY" --name "$FQRN" > /dev/null || fail "the rerun replica does not verify"
total=$((after - base))
[ $((after - before)) -lt $((total - 50)) ] || fail "the rerun fetched $((after - before)) of $total objects: it did not resume"
pass "snapshot killed after $n objects: revision 3 still served; the rerun fetched $((after - before)) more and is identical"

# Garbage collection: 10 revisions, keep 3; the tag release-1 (revision 1) survives.
for r in $(seq 6 10); do
    write_revision $r
    publish
    listing "$SRC" > "$WORK/list.$r"
    strings "$S0/.cvmfspublished" | sed -n 's/^C//p' | head -1 > "$WORK/root.$r"
    snapshot s1a
done
objects_before=$(find "$S0/data" -type f | wc -l)
"$BIN" gc "$S0" --name "$FQRN" --keys "$WORK/keys" --keep-revisions 3 > "$WORK/gc.out" || fail "gc failed: $(cat "$WORK/gc.out")"
grep -q "kept revisions 1 8 9 10;" "$WORK/gc.out" || fail "gc kept: $(cat "$WORK/gc.out")"
[ "$(find "$S0/data" -type f | wc -l)" -lt "$objects_before" ] || fail "gc removed nothing"
"$BIN" verify "http://127.0.0.1:$NGINX_PORT_S0/cvmfs/$FQRN" --key "$KEY" > /dev/null || fail "the collected stratum 0 does not verify"
# Revision 5's own 3 MB file is gone (it is in no kept revision); revision 8's is still there.
unique5=$(comm -13 "$WORK/objects.4" "$WORK/objects.5" | while read -r f; do if [ ! -e "$S0/$f" ]; then echo "$f"; fi; done | wc -l)
[ "$unique5" -ge 2 ] || fail "revision 5's unique objects survived gc"
big5=$(comm -13 "$WORK/objects.4" "$WORK/objects.5" | while read -r f; do if [ -e "$S0/$f" ] && [ "$(stat -c %s "$S0/$f")" -gt 2900000 ]; then echo "$f"; fi; done)
[ -z "$big5" ] || fail "revision 5's big file object $big5 survived gc"
mount_at() {  # mount_at NAME PARAM=VALUE [PORT]: the stratum 0 (or the server on PORT) pinned to one revision, at $WORK/pin
    write_config "$WORK/pin.conf" "$FQRN" "http://127.0.0.1:${3:-$NGINX_PORT_S0}/cvmfs/@fqrn@" "$KEY" "$WORK/cache-$1" "$2"
    mount_repo "$FQRN" "$WORK/pin" "$WORK/pin.conf"
}
for kept in "1 CVMFS_REPOSITORY_TAG=release-1" "8 CVMFS_ROOT_HASH=$(cat "$WORK/root.8")" "9 CVMFS_REPOSITORY_TAG=trunk-previous" "10 CVMFS_REPOSITORY_TAG=trunk"; do
    r=${kept%% *}
    mount_at "r$r" "${kept#* }"
    [ "$(cat "$WORK/pin/version")" = "revision $r" ] || fail "revision $r: $(cat "$WORK/pin/version")"
    [ "$(listing "$WORK/pin")" = "$(cat "$WORK/list.$r")" ] || fail "revision $r lists differently from its source after gc"
    cat "$WORK/pin/big" "$WORK/pin/sw/lib/"* > /dev/null || fail "revision $r: a file is unreadable after gc"
    [ $r != 1 ] || [ "$(getfattr --absolute-names --only-values -n user.tag "$WORK/pin")" = release-1 ] || fail "user.tag is not release-1"
    unmount_repo "$WORK/pin"
done
pass "gc keeping 3 of 10 revisions ($(sed 's/.*: //' "$WORK/gc.out")): revisions 8-10 and the tag release-1 mount and list like their sources; revision 5's own objects are gone"

# The replica collects by its own history: S1A took revisions 1-4 and 6-10 and, kept to 3 like
# the stratum 0, ends with no object the stratum 0 let go, and its kept revisions mount.
S1A="$WORK/s1a/cvmfs/$FQRN"
replica_before=$(find "$S1A/data" -type f | wc -l)
"$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_S0/cvmfs/$FQRN" "$S1A" --key "$KEY" --gc --keep-revisions 3 > "$WORK/s1gc.out" 2>&1 \
    || fail "snapshot --gc failed: $(cat "$WORK/s1gc.out")"
grep -q "kept revisions 1 8 9 10;" "$WORK/s1gc.out" || fail "snapshot --gc kept: $(cat "$WORK/s1gc.out")"
extra=$(comm -23 <(cd "$S1A" && find data -type f ! -path 'data/txn/*' | sort) <(cd "$S0" && find data -type f | sort) | head -3)
[ -z "$extra" ] || fail "the collected replica still holds objects the stratum 0 removed: $extra"
[ "$(find "$S1A/data" -type f | wc -l)" -lt "$replica_before" ] || fail "snapshot --gc removed nothing"
for kept in "1 CVMFS_REPOSITORY_TAG=release-1" "10 CVMFS_REPOSITORY_TAG=trunk"; do
    r=${kept%% *}
    mount_at "s1a-$r" "${kept#* }" "$NGINX_PORT_S1A"
    [ "$(listing "$WORK/pin")" = "$(cat "$WORK/list.$r")" ] || fail "revision $r from the collected replica lists differently from its source"
    cat "$WORK/pin/big" "$WORK/pin/sw/lib/"* > /dev/null || fail "revision $r: a file is unreadable from the collected replica"
    unmount_repo "$WORK/pin"
done
pass "snapshot --gc on a stratum 1 ($(sed -n 's/^gc [^:]*: //p' "$WORK/s1gc.out")): nothing the stratum 0 removed is left, and revision 10 and the tag release-1 mount from it"

# Bad sources: the replica keeps its revision and is still served.
rev_before=$(revision_held "$S1A")
start_fault_server F "$WORK/s0"
mkdir -p "$WORK/otherkeys"
"$BIN" publish "$SRC" "$WORK/other/$FQRN" --name "$FQRN" --keys "$WORK/otherkeys" > /dev/null
mkdir -p "$WORK/s0bad/cvmfs" && cp -a "$WORK/other/$FQRN" "$WORK/s0bad/cvmfs/"
start_nginx BAD "$WORK/s0bad"
if out=$("$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_BAD/cvmfs/$FQRN" "$S1A" --key "$KEY" --quiet 2>&1); then fail "a foreign-signed source was replicated"; fi
[[ "$out" == *"does not verify"* ]] || fail "unclear message for a foreign signature: $out"
pass "a source signed by another key is refused: ${out##*: refused, }"

write_revision 11
publish
obj=$(cd "$S0" && find data -type f -newer "$WORK/gc.out" ! -name '*C' ! -name '*H' ! -name '*X' | head -1)
fault_mode "$FAULT_PORT_F" flip "/cvmfs/$FQRN/$obj"
if out=$("$BIN" snapshot "http://127.0.0.1:$FAULT_PORT_F/cvmfs/$FQRN" "$S1A" --key "$KEY" --quiet --timeout 2 2>&1); then fail "a corrupt object was replicated"; fi
[[ "$out" == *"${obj#data/}"* ]] || fail "the message does not name the corrupt object $obj: $out"
[ ! -e "$S1A/$obj" ] || fail "the corrupt object entered the replica"
[ "$(revision_held "$S1A")" = "$rev_before" ] || fail "the replica switched revision"
curl -fsS "http://127.0.0.1:$NGINX_PORT_S1A/cvmfs/$FQRN/.cvmfspublished" -o /dev/null || fail "the replica is no longer served"
pass "a corrupt object stops the snapshot naming it; the replica stays on revision $rev_before"

# Replayed older manifest: a source that serves revision 3's manifest again.
mkdir -p "$WORK/old/cvmfs"
cp -a "$WORK/s1b/cvmfs/$FQRN" "$WORK/old/cvmfs/"
"$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_S0/cvmfs/$FQRN" "$S1A" --key "$KEY" --quiet
held_now=$(revision_held "$S1A")
start_nginx OLD "$WORK/old"
if out=$("$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_OLD/cvmfs/$FQRN" "$S1A" --key "$KEY" --quiet 2>&1); then fail "an older manifest was replicated"; fi
[[ "$out" == *"replayed"* ]] || fail "unclear message for a replay: $out"
[ "$(revision_held "$S1A")" = "$held_now" ] || fail "the replay changed the replica"
pass "a source serving an older revision is refused as a replay"

# Full disk: a 16 MiB tmpfs holds revision 11 (with the tagged revisions 1 and 10) but not
# revision 12's four more 3 MB files.
mkdir -p "$WORK/tiny"
mount -t tmpfs -o size=16m tmpfs "$WORK/tiny"
MOUNTS+=("$WORK/tiny")
"$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_S0/cvmfs/$FQRN" "$WORK/tiny/$FQRN" --key "$KEY" --quiet || fail "revision 11 does not fit 16 MiB"
write_revision 12
for i in $(seq 1 3); do head -c 3000000 /dev/urandom > "$SRC/more$i"; done
publish
if out=$("$BIN" snapshot "http://127.0.0.1:$NGINX_PORT_S0/cvmfs/$FQRN" "$WORK/tiny/$FQRN" --key "$KEY" --quiet 2>&1); then fail "a snapshot onto a full disk succeeded"; fi
[[ "$out" == *"No space left"* ]] || fail "unclear message for a full disk: $out"
[ "$(revision_held "$WORK/tiny/$FQRN")" = 11 ] || fail "the full replica switched revision"
"$BIN" verify "$WORK/tiny/$FQRN" --key "$KEY" --name "$FQRN" > /dev/null || fail "the full replica's revision 11 no longer verifies"
umount "$WORK/tiny"
pass "a full disk stops the snapshot with: ${out##*: }"

for c in 1 2; do unmount_repo "$WORK/mnt$c"; done
