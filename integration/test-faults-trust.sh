#!/bin/bash
# Trust faults while mounted (docs/format/manifest-and-signatures.md §5), each with what the user
# sees; the mount stays up on the revision it has:
# - the whitelist expires while mounted: the mounted revision keeps reading and an unchanged
#   manifest needs no whitelist; a new revision is refused naming the expiry, the mount says it
#   is offline, and once the whitelist is re-signed the new revision is applied;
# - the certificate swapped for one signed by a key not in the key set (a whole foreign-signed
#   revision, or a foreign certificate under the genuine whitelist): refused, revision unchanged;
#   a fresh mount of the foreign-signed repository is refused with exit code 15.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=trust.test.local
SRC="$WORK/src"
mkdir -p "$SRC"
echo "revision 1" > "$SRC/file"
REPO="$WORK/www/cvmfs/$FQRN"
publish() { "$BIN" publish "$SRC" "$1" --name "$FQRN" --keys "$2" > /dev/null; }
publish "$REPO" "$WORK/keys"
start_nginx A "$WORK/www"
write_config "$WORK/t.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT="$WORK/cvmfs/$FQRN"
mount_repo "$FQRN" "$MNT" "$WORK/t.conf"
talk() { "$BIN" talk -i "$FQRN" --config "$WORK/t.conf" "$@"; }
offline() { talk internal affairs | grep -q "^Offline: yes"; }
[ "$(talk revision)" = 1 ] || fail "revision 1 not mounted"

# 1. The whitelist expires while mounted (re-signed by the real master key, expiry an hour ago).
expired=$(date -u -d '1 hour ago' +%Y%m%d%H%M%S)
resign_whitelist "$REPO/.cvmfswhitelist" "$WORK/keys/$FQRN.masterkey" "$expired"
"$BIN" verify "$REPO" --key "$WORK/keys/$FQRN.pub" > "$WORK/verify.out" 2>&1 && fail "verify accepted the expired whitelist"
grep -qi "expire" "$WORK/verify.out" || fail "the re-signed whitelist is refused for another reason: $(cat "$WORK/verify.out")"
[ "$(cat "$MNT/file")" = "revision 1" ] || fail "expired whitelist: the mounted revision stopped reading"
[ "$(talk remount)" = "Catalog up to date" ] || fail "expired whitelist: an unchanged manifest was not up to date"
cp "$REPO/.cvmfswhitelist" "$WORK/whitelist.expired"
echo "revision 2" > "$SRC/file"
sleep 1
publish "$REPO" "$WORK/keys"                     # writes a fresh whitelist ...
cp "$REPO/.cvmfswhitelist" "$WORK/whitelist.good"
cp "$WORK/whitelist.expired" "$REPO/.cvmfswhitelist"   # ... which the server has not got
reply=$(talk remount)
[[ "$reply" == Failed* && "$reply" == *expire* ]] || fail "expired whitelist: revision 2 not refused for the expiry: $reply"
[ "$(talk revision)" = 1 ] || fail "expired whitelist: the revision changed"
[ "$(cat "$MNT/file")" = "revision 1" ] || fail "expired whitelist: wrong content after the refusal"
offline || fail "expired whitelist: the mount does not say it is offline"
cp "$WORK/whitelist.good" "$REPO/.cvmfswhitelist"
[ "$(talk remount)" = "New revision applied" ] || fail "re-signed whitelist: revision 2 not applied"
[ "$(talk revision)" = 2 ] && ! offline || fail "re-signed whitelist: not on revision 2 online"
pass "whitelist expired while mounted: revision 1 kept reading, revision 2 refused ($reply), applied once re-signed"

# 2. A certificate signed by a key not in the key set. The foreign publisher has its own master
#    and certificate keys and publishes three revisions, so its manifest is newer and higher.
FOREIGN="$WORK/foreign"
echo "forged" > "$SRC/file"
for _ in 1 2 3; do publish "$FOREIGN" "$WORK/foreign-keys"; done
save="$WORK/saved"
mkdir -p "$save"
cp "$REPO/.cvmfspublished" "$REPO/.cvmfswhitelist" "$save/"
cp -rn "$FOREIGN/data/." "$REPO/data/"
# a. The whole revision foreign-signed: its whitelist is not signed by a trusted master key.
cp "$FOREIGN/.cvmfspublished" "$FOREIGN/.cvmfswhitelist" "$REPO/"
reply_a=$(talk remount)
[[ "$reply_a" == Failed* && "$reply_a" == *whitelist* ]] || fail "foreign-signed revision not refused for its whitelist: $reply_a"
[ "$(talk revision)" = 2 ] || fail "foreign-signed revision: the revision changed"
# b. The foreign manifest and certificate under the genuine whitelist: not whitelisted.
cp "$save/.cvmfswhitelist" "$REPO/"
reply_b=$(talk remount)
[[ "$reply_b" == Failed* && "$reply_b" == *certificate* ]] || fail "foreign certificate not refused as unlisted: $reply_b"
[ "$(talk revision)" = 2 ] || fail "foreign certificate: the revision changed"
[ "$(cat "$MNT/file")" = "revision 2" ] || fail "foreign certificate: wrong content"
offline || fail "foreign certificate: the mount does not say it is offline"
# c. A fresh mount, empty cache, of the foreign-signed repository: refused.
cp "$FOREIGN/.cvmfswhitelist" "$REPO/"
write_config "$WORK/t2.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache2"
mkdir -p "$WORK/mnt2"
code=0
"$BIN" mount "$FQRN" "$WORK/mnt2" -o "config=$WORK/t2.conf" 2> "$WORK/mount2.err" || code=$?
grep -q " $WORK/mnt2 " /proc/mounts && { MOUNTS+=("$WORK/mnt2"); fail "the foreign-signed repository was mounted"; }
[ "$code" = 15 ] || fail "fresh mount of the foreign-signed repository: exit $code, wanted 15: $(cat "$WORK/mount2.err")"
cp "$save/.cvmfspublished" "$save/.cvmfswhitelist" "$REPO/"
[ "$(talk remount)" = "Catalog up to date" ] || fail "after restoring the genuine manifest"
unmount_repo "$MNT"
pass "certificate signed by a foreign key refused: whole revision ($reply_a), under the genuine whitelist ($reply_b), fresh mount exit 15"
