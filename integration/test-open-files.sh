#!/bin/bash
# CVMFS_NFILES: the daemon's descriptor limit. Past its budget (the limit less a
# reserve, `user.maxfd`) an open fails with EMFILE, not EIO, the mount stays up, and
# once files are closed opens work again.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
mkdir -p "$SRC"
for i in $(seq 1 400); do echo "file $i" > "$SRC/f$i"; done
REPO="$WORK/www/cvmfs/nfiles.test.local"
"$BIN" publish "$SRC" "$REPO" --name nfiles.test.local --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
write_config "$WORK/r.conf" nfiles.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/nfiles.test.local.pub" "$WORK/cache" "CVMFS_NFILES=700"
MNT="$WORK/cvmfs/nfiles.test.local"
mount_repo nfiles.test.local "$MNT" "$WORK/r.conf"

pid=$(xattr "$MNT" pid)
[ "$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")" = 700 ] || fail "the daemon's soft limit is not CVMFS_NFILES"
budget=$(xattr "$MNT" maxfd)
[ "$budget" = 350 ] || fail "user.maxfd is $budget, expected 700 less the reserve (350)"

python3 - "$MNT" "$budget" <<'PY' || fail "open past the budget"
import errno, os, sys
mnt, budget = sys.argv[1], int(sys.argv[2])
held = []
for i in range(1, 401):
    try:
        held.append(open(f"{mnt}/f{i}", "rb"))
    except OSError as e:
        if e.errno != errno.EMFILE:
            sys.exit(f"open {i} failed with {e}, not EMFILE")
        break
else:
    sys.exit("400 files opened, past the budget")
if len(held) != budget:
    sys.exit(f"{len(held)} files opened before EMFILE, expected {budget}")
if any(f.read() != f"file {n + 1}\n".encode() for n, f in enumerate(held)):
    sys.exit("a held file reads wrong bytes")
for f in held:
    f.close()
for i in range(1, 401):
    with open(f"{mnt}/f{i}", "rb") as f:
        if f.read() != f"file {i}\n".encode():
            sys.exit(f"f{i} reads wrong bytes after the files were closed")
PY
[ "$(xattr "$MNT" nioerr)" = 0 ] || fail "EMFILE was counted as an I/O error"
pass "CVMFS_NFILES=700: the daemon's limit is 700, $budget files open, the next open is EMFILE, all 400 read once closed"
unmount_repo "$MNT"
