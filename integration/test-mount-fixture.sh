#!/bin/bash
# A real FUSE mount of the upstream-made fixture served by nginx shows exactly
# expected.tsv, with a cold cache and again warm after a remount; reading one
# small file of a fresh mount fetches only the bootstrap files, the catalogs on
# its path and that one object.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

mkdir -p "$WORK/www/cvmfs"
ln -s "$FIXTURE/repo" "$WORK/www/cvmfs/small.cvmfs.local"
start_nginx A "$WORK/www"
CONF="$WORK/small.conf"
write_config "$CONF" small.cvmfs.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$FIXTURE/small.cvmfs.local.pub" "$WORK/cache" CVMFS_FIXTURE_ARCH=x86_64
MNT="$WORK/cvmfs/small.cvmfs.local"

# Only what is read is fetched.
mount_repo small.cvmfs.local "$MNT" "$CONF"
[ "$(cat "$MNT/nested/inner/file.txt")" = "inner (still nested catalog 1)" ] || fail "content of nested/inner/file.txt"
unmount_repo "$MNT"
python3 - "$NGINX_LOG_A" "$FIXTURE/repo" <<'PY' || fail "requests of a one-file read"
import sys, re
log, repo = sys.argv[1], sys.argv[2]
paths = [l.split()[1] for l in open(log) if l.startswith("GET /cvmfs/")]
names = [p.split("/cvmfs/small.cvmfs.local/")[1] for p in paths]
manifest = open(repo + "/.cvmfspublished", "rb").read().split(b"\n--\n")[0].decode()
keys = {l[0]: l[1:] for l in manifest.splitlines() if l}
root, cert = keys["C"], keys["X"]
expected_start = {".cvmfspublished", ".cvmfswhitelist", "data/%s/%sX" % (cert[:2], cert[2:]), "data/%s/%sC" % (root[:2], root[2:])}
catalogs = [n for n in names if n.endswith("C")]
objects = [n for n in names if n.startswith("data/") and not n[-1] in "CX"]
assert set(names) >= expected_start, names
assert len(catalogs) == 2, ("root and /nested catalogs only", catalogs)
assert len(objects) == 1, ("exactly one file object", objects)
assert len(names) == 6, names
PY
pass "reading one small file fetched manifest, whitelist, certificate, 2 catalogs and 1 object"

# Cold cache: the full listing.
rm -rf "$WORK/cache"
mount_repo small.cvmfs.local "$MNT" "$CONF"
python3 "$LISTING" "$MNT" > "$WORK/cold.tsv"
diff "$FIXTURE/expected.tsv" "$WORK/cold.tsv" || fail "cold-cache listing differs from expected.tsv"
pass "cold-cache listing equals expected.tsv ($(wc -l < "$WORK/cold.tsv") entries)"
[ "$(stat -c %i "$MNT/hardlinks/a")" = "$(stat -c %i "$MNT/hardlinks/c")" ] || fail "hardlink group shares one inode"
[ "$(stat -c %h "$MNT/hardlinks/b")" = 3 ] || fail "hardlink count"
[ "$(readlink "$MNT/links/variant_plain")" = x86_64 ] || fail "variant symlink"
[ "$(getfattr --absolute-names --only-values -n user.fqrn "$MNT")" = small.cvmfs.local ] || fail "user.fqrn"
[ "$(getfattr --absolute-names --only-values -n user.revision "$MNT")" = 1 ] || fail "user.revision"
[ "$(getfattr --absolute-names --only-values -n user.chunks "$MNT/data/random3M.bin")" -gt 1 ] || fail "user.chunks of a chunked file"
[ "$(getfattr --absolute-names --only-values -n user.fixture "$MNT/xattr/file.txt")" = hello ] || fail "catalog xattr"
[ "$(ls "$MNT/many" | wc -l)" = 2000 ] || fail "2000-entry directory"
if touch "$MNT/newfile" 2>"$WORK/err"; then fail "write succeeded on a read-only mount"; fi
grep -q "Read-only file system" "$WORK/err" || fail "write error is EROFS: $(cat "$WORK/err")"
pass "inodes, links, variant symlinks, magic and catalog xattrs, EROFS"
unmount_repo "$MNT"

# Warm cache after a remount: same listing, and no object downloads.
: > "$NGINX_LOG_A"
mount_repo small.cvmfs.local "$MNT" "$CONF"
python3 "$LISTING" "$MNT" > "$WORK/warm.tsv"
diff "$FIXTURE/expected.tsv" "$WORK/warm.tsv" || fail "warm-cache listing differs from expected.tsv"
objects=$(grep -c "GET /cvmfs/small.cvmfs.local/data/" "$NGINX_LOG_A" || true)
[ "$objects" = 0 ] || fail "warm mount downloaded $objects objects"
pass "warm-cache listing equals expected.tsv with no object downloads"
unmount_repo "$MNT"
grep -q " $MNT " /proc/mounts && fail "mount left behind"

# A cache base so deep that the control socket's path passes sun_path's 107 bytes: the mount,
# the socket and talk still work (the socket is reached through its directory).
DEEP="$WORK/$(printf 'deep-cache-folder-%02d/' 1 2 3 4 5)cache"
write_config "$WORK/deep.conf" small.cvmfs.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$FIXTURE/small.cvmfs.local.pub" "$DEEP" CVMFS_FIXTURE_ARCH=x86_64
mount_repo small.cvmfs.local "$MNT" "$WORK/deep.conf"
socket=$(getfattr --absolute-names --only-values -n user.talk_socket "$MNT")
[ "${#socket}" -gt 107 ] || fail "the test's socket path is only ${#socket} bytes"
[ -S "$socket" ] || fail "no control socket at $socket"
[ "$("$BIN" talk -p "$socket" revision)" = 1 ] || fail "talk over a ${#socket}-byte socket path"
[ "$("$BIN" talk -i small.cvmfs.local --config "$WORK/deep.conf" revision)" = 1 ] || fail "talk -i over a long socket path"
[ "$(cat "$MNT/nested/inner/file.txt")" = "inner (still nested catalog 1)" ] || fail "read with a deep cache base"
unmount_repo "$MNT"
pass "a ${#socket}-byte control socket path: mount, talk -p and talk -i work"
pass "fixture mount tests"
