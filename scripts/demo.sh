#!/bin/bash
# The main job on a built-in demo repository: publish a small software tree as
# demo.cvmfs.local, serve it with nginx on loopback, mount it at
# /cvmfs/demo.cvmfs.local, read a few files, show what crossed the network and
# what the cache holds, and unmount. Installs what it needs on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
echo "== building the release binary"
swift build -c release --product cvmfs-swift 2>&1 | grep -E "error|Compiling|Build complete" | tail -3
export CVMFS_SWIFT_BIN="$(swift build -c release --show-bin-path)/cvmfs-swift"
source integration/lib.sh
trap cleanup EXIT
FQRN=demo.cvmfs.local

echo "== generating the demo tree"
SRC="$WORK/demo"
mkdir -p "$SRC/bin" "$SRC/lib/x86_64" "$SRC/share/doc" "$SRC/data" "$SRC/sw/.cvmfscatalog.d"
rmdir "$SRC/sw/.cvmfscatalog.d"; : > "$SRC/sw/.cvmfscatalog"
printf '#!/bin/sh\necho "hello from CernVM-FS, revision $(cat "$(dirname "$0")/../share/version")"\n' > "$SRC/bin/hello"
chmod 0755 "$SRC/bin/hello"
echo 1 > "$SRC/share/version"
python3 - "$SRC" <<'PY'
import os, random, sys
root = sys.argv[1]
r = random.Random(42)
for i in range(300):
    d = os.path.join(root, "sw", "pkg%02d" % (i // 30))
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "module%03d.py" % i), "w").write("# module %d\n" % i + "x = %d\n" % i * 200)
open(os.path.join(root, "data", "calibration.bin"), "wb").write(r.randbytes(48 << 20))
open(os.path.join(root, "share", "doc", "README"), "w").write("A demo repository published by cvmfs-swift.\n")
PY
ln -s '$(CVMFS_ARCH)' "$SRC/lib/arch"
ln -s share/doc/README "$SRC/README"
du -sh "$SRC" | sed 's/^/   tree: /'

echo "== publishing"
"$CVMFS_SWIFT_BIN" publish "$SRC" "$WORK/www/cvmfs/$FQRN" --name $FQRN --keys "$WORK/keys" \
    --chunk-min 1048576 --chunk-avg 2097152 --chunk-max 4194304 | sed 's/^/   /'
"$CVMFS_SWIFT_BIN" verify "$WORK/www/cvmfs/$FQRN" --key "$WORK/keys/$FQRN.pub" | sed 's/^/   /'

echo "== serving with nginx and mounting at /cvmfs/$FQRN"
start_nginx A "$WORK/www"
write_config "$WORK/demo.conf" $FQRN "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT=/cvmfs/$FQRN
started=$(date +%s%N)
mount_repo $FQRN "$MNT" "$WORK/demo.conf"
first=$("$MNT/bin/hello")
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
echo "   $first   (mount to first output: ${elapsed} ms)"
echo "   ls $MNT:"; ls -l "$MNT" | sed 's/^/     /'
echo "   $MNT/lib/arch -> $(readlink "$MNT/lib/arch")   (variant symlink)"
echo "   README: $(cat "$MNT/README")"
echo "   first 16 bytes of data/calibration.bin at 40 MiB: $(dd if="$MNT/data/calibration.bin" bs=1M skip=40 count=1 2>/dev/null | head -c 16 | od -An -tx1 | tr -d ' \n')"

echo "== figures"
size=$(du -sb "$SRC" | cut -f1)
rx=$(getfattr --absolute-names --only-values -n user.rx "$MNT")
nd=$(getfattr --absolute-names --only-values -n user.ndownload "$MNT")
echo "   repository content: $((size / 1024)) KiB; fetched over HTTP: ${rx} KiB in ${nd} downloads"
"$CVMFS_SWIFT_BIN" talk -i $FQRN --config "$WORK/demo.conf" cache size | sed 's/^/   /'
echo "   revision $(getfattr --absolute-names --only-values -n user.revision "$MNT"), root catalog $(getfattr --absolute-names --only-values -n user.root_hash "$MNT")"

echo "== unmounting"
unmount_repo "$MNT"
rmdir "$MNT" 2>/dev/null || true
echo "done"
