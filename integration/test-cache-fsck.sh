#!/bin/bash
# fsck of the local cache: a cached object with a flipped byte is served as cached after a
# remount (objects are not re-hashed on open; user.lhash shows the damage), is found by fsck and
# moved to quarantaine (cvmfs-swift fsck -p, as the installed cvmfs_config fsck runs it), the
# other objects pass, and the next read fetches the object from the server again. A cached
# object cut short on disk is noticed at open (its length) and fetched again.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=fsck.test.local
SRC="$WORK/src"
mkdir -p "$SRC"
head -c 400000 /dev/urandom > "$SRC/victim"
seq 1 50000 > "$SRC/other"
REPO="$WORK/www/cvmfs/$FQRN"
"$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
"$ROOT/mountconfig/install.sh" --prefix "$WORK/root" > /dev/null
write_config "$WORK/c.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT="$WORK/cvmfs/$FQRN"
mount_repo "$FQRN" "$MNT" "$WORK/c.conf"
cmp -s "$SRC/victim" "$MNT/victim" && cmp -s "$SRC/other" "$MNT/other" || fail "first read differs"
h=$(getfattr --absolute-names --only-values -n user.hash "$MNT/victim")
unmount_repo "$MNT"

CACHE="$WORK/cache/$FQRN"
OBJ="$CACHE/${h:0:2}/${h:2}"
[ -f "$OBJ" ] || fail "the object is not in the cache at $OBJ"
"$BIN" fsck "$CACHE" > "$WORK/fsck0.txt" || fail "fsck of a good cache: $(cat "$WORK/fsck0.txt")"
grep -q " 0 corrupt" "$WORK/fsck0.txt" || fail "good cache: $(cat "$WORK/fsck0.txt")"
python3 - "$OBJ" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[1000] ^= 0x01; open(p, "wb").write(b)
PY

# A remount does not re-hash what is cached (docs/format/client-behaviour.md §13): the flipped
# byte is what the file reads until fsck finds it, and user.lhash, which hashes the cached copy,
# shows that it no longer matches. A cache file of the wrong length is caught by the cache check
# at mount and fetched again.
mount_repo "$FQRN" "$MNT" "$WORK/c.conf"
oh=$(getfattr --absolute-names --only-values -n user.hash "$MNT/other")
OTHER="$CACHE/${oh:0:2}/${oh:2}"
unmount_repo "$MNT"
truncate -s -100 "$OTHER"
before_other=$(grep -c "GET /cvmfs/$FQRN/data/${oh:0:2}/${oh:2} 200" "$NGINX_LOG_A" || true)
mount_repo "$FQRN" "$MNT" "$WORK/c.conf"
cmp -s "$SRC/victim" "$MNT/victim" && fail "remount: the flipped byte was not served (was the object re-hashed? then update §13)"
[ "$(cmp "$SRC/victim" "$MNT/victim" | awk '{print $5}' | tr -d ,)" = 1001 ] || fail "remount: the served file differs elsewhere than the flipped byte: $(cmp "$SRC/victim" "$MNT/victim")"
lhash=$(getfattr --absolute-names --only-values -n user.lhash "$MNT/victim")
want=$(sha1sum "$SRC/victim" | cut -c1-40)
[ "$lhash" != "$want" ] || fail "remount: user.lhash still shows the good hash"
cmp -s "$SRC/other" "$MNT/other" || fail "remount: the truncated cache file was served: $(cmp "$SRC/other" "$MNT/other" 2>&1)"
after_other=$(grep -c "GET /cvmfs/$FQRN/data/${oh:0:2}/${oh:2} 200" "$NGINX_LOG_A" || true)
[ "$after_other" = $((before_other + 1)) ] || fail "remount: the truncated object was not fetched again (GETs: $before_other then $after_other)"
unmount_repo "$MNT"
pass "after a remount the flipped byte is served as cached (not re-hashed; user.lhash differs from the content hash), a truncated cache file is fetched again"

set +e
"$BIN" fsck "$CACHE" > "$WORK/fsck1.txt"; code1=$?
CVMFS_SWIFT_BIN="$BIN" "$WORK/root/usr/bin/cvmfs_config" fsck -p "$CACHE" > "$WORK/fsck2.txt" 2>&1; code2=$?
set -e
[ "$code1" = 4 ] && grep -q "${h:0:2}/${h:2}: content does not match its hash, left in place" "$WORK/fsck1.txt" \
    || fail "fsck without -p (exit $code1): $(cat "$WORK/fsck1.txt")"
[ "$code2" = 1 ] && grep -q "${h:0:2}/${h:2}: content does not match its hash, moved to quarantaine" "$WORK/fsck2.txt" \
    || fail "cvmfs_config fsck -p (exit $code2): $(cat "$WORK/fsck2.txt")"
[ ! -e "$OBJ" ] && [ -f "$CACHE/quarantaine/$h" ] || fail "the corrupt object was not moved to quarantaine"
pass "fsck found the flipped byte ($(tail -1 "$WORK/fsck2.txt")) and moved the object away"

before=$(grep -c "GET /cvmfs/$FQRN/data/${h:0:2}/${h:2} 200" "$NGINX_LOG_A")
mount_repo "$FQRN" "$MNT" "$WORK/c.conf"
cmp -s "$SRC/victim" "$MNT/victim" || fail "the read after fsck differs"
unmount_repo "$MNT"
after=$(grep -c "GET /cvmfs/$FQRN/data/${h:0:2}/${h:2} 200" "$NGINX_LOG_A")
[ "$after" = $((before + 1)) ] || fail "the object was not fetched again (GETs: $before then $after)"
"$BIN" fsck "$CACHE" | grep -q " 0 corrupt" || fail "the refilled cache does not pass fsck"
pass "the next read fetched the object again and the cache passes fsck"
