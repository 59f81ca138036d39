#!/bin/bash
# Bad input: a wrong manifest signature refuses to mount with a clear message
# and exit code; a corrupt or missing object makes only that file's read fail
# with EIO while the mount and other files keep working; nothing wrong enters
# the cache.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
mkdir -p "$SRC/d"
echo "good file" > "$SRC/good.txt"
echo "this object will be corrupted" > "$SRC/corrupt.txt"
echo "this object will go missing" > "$SRC/missing.txt"
REPO="$WORK/www/cvmfs/bad.test.local"
"$BIN" publish "$SRC" "$REPO" --name bad.test.local --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
write_config "$WORK/b.conf" bad.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/bad.test.local.pub" "$WORK/cache"
MNT="$WORK/cvmfs/bad.test.local"

object_of() {  # the data/ path of a file's object, from an extract-free lookup through the CLI
    local hash
    hash=$(getfattr --absolute-names --only-values -n user.hash "$MNT/$1")
    echo "$REPO/data/${hash:0:2}/${hash:2}"
}

# 1. A flipped byte in the manifest signature.
cp "$REPO/.cvmfspublished" "$WORK/published.good"
python3 - "$REPO/.cvmfspublished" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-10] ^= 0xFF; open(p, "wb").write(b)
PY
mkdir -p "$MNT"
set +e
"$BIN" mount bad.test.local "$MNT" -o "config=$WORK/b.conf" 2> "$WORK/mount.err"
code=$?
set -e
[ "$code" = 15 ] || fail "bad signature: exit code $code, wanted 15 (signature failure)"
grep -q "signature" "$WORK/mount.err" || fail "bad signature message: $(cat "$WORK/mount.err")"
grep -q " $MNT " /proc/mounts && fail "mounted despite a bad signature"
pass "bad manifest signature refused: $(head -c 200 "$WORK/mount.err")"
cp "$WORK/published.good" "$REPO/.cvmfspublished"

# 2. Corrupt and missing objects.
mount_repo bad.test.local "$MNT" "$WORK/b.conf"
corrupt=$(object_of corrupt.txt)
missing=$(object_of missing.txt)
corrupt_hash=$(getfattr --absolute-names --only-values -n user.hash "$MNT/corrupt.txt")
python3 - "$corrupt" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01; open(p, "wb").write(b)
PY
mv "$missing" "$WORK/missing.object"
if cat "$MNT/corrupt.txt" > /dev/null 2> "$WORK/err1"; then fail "a corrupt object was served"; fi
grep -q "Input/output error" "$WORK/err1" || fail "corrupt object: wanted EIO, got $(cat "$WORK/err1")"
if cat "$MNT/missing.txt" > /dev/null 2> "$WORK/err2"; then fail "a missing object was served"; fi
grep -q "Input/output error" "$WORK/err2" || fail "missing object: wanted EIO, got $(cat "$WORK/err2")"
[ "$(cat "$MNT/good.txt")" = "good file" ] || fail "other files stop working after an EIO"
ls "$MNT/d" > /dev/null || fail "the mount stopped listing after an EIO"
[ ! -e "$WORK/cache/bad.test.local/${corrupt_hash:0:2}/${corrupt_hash:2}" ] || fail "the corrupt object entered the cache"
[ "$(getfattr --absolute-names --only-values -n user.nioerr "$MNT")" -ge 2 ] || fail "user.nioerr counts the errors"
pass "corrupt and missing objects give EIO, other files still read, nothing bad cached"

# 3. Once the object is repaired on the server the same mount reads it.
mv "$WORK/missing.object" "$missing"
[ "$(cat "$MNT/missing.txt")" = "this object will go missing" ] || fail "repaired object reads after an EIO"
pass "a repaired object reads on the next open"
unmount_repo "$MNT"
