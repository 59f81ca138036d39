#!/bin/bash
# New revisions without unmounting: `talk remount` applies a newer signed
# revision (new files appear, removed ones vanish), an open file keeps its old
# content, the TTL timer applies one by itself, and a replayed older manifest
# is refused (while mounted, and at a new mount on a cache that saw the newer
# one, which mounts that newer one offline). Every talk command answers.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
mkdir -p "$SRC/dir"
echo "version 1" > "$SRC/changing.txt"
echo "goes away" > "$SRC/removed.txt"
REPO="$WORK/www/cvmfs/rev.test.local"
publish() { "$BIN" publish "$SRC" "$REPO" --name rev.test.local --keys "$WORK/keys" --ttl "${TTL:-240}" > /dev/null; }
publish
start_nginx A "$WORK/www"
write_config "$WORK/r.conf" rev.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/rev.test.local.pub" "$WORK/cache"
MNT="$WORK/cvmfs/rev.test.local"
mount_repo rev.test.local "$MNT" "$WORK/r.conf"
talk() { "$BIN" talk -i rev.test.local --config "$WORK/r.conf" "$@"; }

[ "$(talk revision)" = 1 ] || fail "talk revision"
exec 3< "$MNT/changing.txt"          # held open across the switch
# Missing now, so the kernel caches negative entries for them (CVMFS_KCACHE_TIMEOUT is 60 s).
for _ in 1 2; do [ ! -e "$MNT/added.txt" ] && [ ! -e "$MNT/dir/later.txt" ] || fail "added.txt exists in revision 1"; done
cp "$REPO/.cvmfspublished" "$WORK/published.rev1"

echo "version 2" > "$SRC/changing.txt"
rm "$SRC/removed.txt"
echo "new" > "$SRC/added.txt"
echo "later" > "$SRC/dir/later.txt"
sleep 1  # a newer publish timestamp than revision 1
publish
[ "$(talk remount sync)" = "New revision applied" ] || fail "remount did not apply revision 2"
[ "$(talk revision)" = 2 ] || fail "revision after remount"
[ "$(getfattr --absolute-names --only-values -n user.revision "$MNT")" = 2 ] || fail "user.revision after remount"
[ "$(cat "$MNT/added.txt")" = new ] || fail "new file after remount (hidden by the kernel's negative entry from revision 1?)"
[ "$(cat "$MNT/dir/later.txt")" = later ] || fail "new file in a subdirectory after remount"
[ ! -e "$MNT/removed.txt" ] || fail "removed file still visible"
[ "$(cat "$MNT/changing.txt")" = "version 2" ] || fail "changed file shows new content after remount"
[ "$(cat <&3)" = "version 1" ] || fail "open handle lost its old content"
exec 3<&-
[ "$(talk remount)" = "Catalog up to date" ] || fail "second remount"
pass "talk remount applies revision 2 (names missed in revision 1 are found at once); open handle keeps revision 1's bytes"

# Replay: serve the older signed manifest again; the mount stays on revision 2.
cp "$REPO/.cvmfspublished" "$WORK/published.rev2"
cp "$WORK/published.rev1" "$REPO/.cvmfspublished"
reply=$(talk remount)
[[ "$reply" == Failed* ]] || fail "replayed manifest accepted: $reply"
[[ "$reply" == *"older"* || "$reply" == *"timestamp"* ]] || fail "replay message names the timestamp: $reply"
[ "$(talk revision)" = 2 ] || fail "revision changed after a replay"
pass "replayed older manifest refused: $reply"

# The same replay at a new mount on this cache (which recorded revision 2): the old manifest is
# refused and the newer cached revision is mounted offline (manifest-and-signatures.md §5 steps
# 4 and 11); once the server has revision 2 again the next check finds it up to date, online.
unmount_repo "$MNT"
mount_repo rev.test.local "$MNT" "$WORK/r.conf" || fail "replay at mount: the mount failed"
[ "$(talk revision)" = 2 ] || fail "replay at mount: revision $(talk revision), wanted the cached 2"
[ "$(cat "$MNT/changing.txt")" = "version 2" ] && [ -e "$MNT/added.txt" ] || fail "replay at mount: not revision 2's content"
talk internal affairs | grep -q "^Offline: yes" || fail "replay at mount: not offline"
cp "$WORK/published.rev2" "$REPO/.cvmfspublished"
[ "$(talk remount)" = "Catalog up to date" ] || fail "replay at mount: the restored manifest is not up to date"
talk internal affairs | grep -q "^Offline: no" || fail "replay at mount: still offline after the server has revision 2 again"
pass "replayed older manifest at a new mount: refused, the cached revision 2 mounted offline, online again once revision 2 is served"

for cmd in "revision" "pid" "version" "mountpoint" "cache size" "cache list" "cache list pinned" "cache instance" \
           "host info" "host probe" "host switch" "proxy info" "proxy switch" "proxy set DIRECT" "timeout info" \
           "parameters" "internal affairs" "open catalogs" "cleanup 0" "reset error counters"; do
    out=$(talk $cmd)
    [ -n "$out" ] || fail "talk $cmd gave no answer"
    [ "$out" != "unknown command" ] || fail "talk $cmd unknown"
done
[ "$(talk pid)" = "$(getfattr --absolute-names --only-values -n user.pid "$MNT")" ] || fail "talk pid"
talk parameters | grep -q "^CVMFS_SERVER_URL=" || fail "talk parameters lists CVMFS_SERVER_URL"
pass "every talk command answers"
unmount_repo "$MNT"

# The TTL timer: with TTL 2 s the mount moves to a new revision by itself.
TTL=2 publish
mount_repo rev.test.local "$MNT" "$WORK/r.conf"
before=$(talk revision)
echo "version 4" > "$SRC/changing.txt"
sleep 1
TTL=2 publish
for _ in $(seq 60); do [ "$(talk revision)" != "$before" ] && break; sleep 0.2; done
[ "$(talk revision)" -gt "$before" ] || fail "TTL expiry did not apply the new revision"
sleep 1.5   # kernel entries invalidated at the switch
[ "$(cat "$MNT/changing.txt")" = "version 4" ] || fail "content after the TTL switch: $(cat "$MNT/changing.txt")"
pass "revision $(talk revision) applied after the TTL ran out"
unmount_repo "$MNT"
