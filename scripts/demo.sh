#!/bin/bash
# The main job, end to end, on a fresh Debian 12 (installs what it needs):
#  1. containers: a small Debian image with python3, built offline from Debian's packages, is
#     pushed to a loopback registry (docker-registry), converted with `cvmfs-swift convert` into
#     the DUCC layout of unpacked.demo.local, served by nginx, mounted at /cvmfs, and run from
#     there with podman (--rootfs IMAGE:O), bwrap and, with --apptainer or once the Debian sid
#     tree is cached, apptainer. Figures: bytes fetched against the image's size, time to the
#     first output from an empty cache, against `podman pull` + run and skopeo + umoci + run.
#     Then a start-up profile is recorded, added to the recipe, and the cold start is timed
#     at a simulated round-trip time (DEMO_RTT_MS, default 20) without and with it.
#  2. a plain repository: publish a software tree as demo.cvmfs.local, mount, read, show the
#     transfer figures.
# Everything started is stopped and unmounted at the end. Slow, reusable trees (the Debian
# image tree, the sid tree for apptainer) are cached in /var/cache/cvmfs-swift-demo.
#   usage: scripts/demo.sh [--apptainer] [--containers-only]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
APPTAINER=auto PLAIN=yes
for a in "$@"; do
    case $a in
        --apptainer) APPTAINER=yes ;;
        --containers-only) PLAIN=no ;;
        *) echo "usage: $0 [--apptainer] [--containers-only]" >&2; exit 2 ;;
    esac
done
./scripts/install-deps.sh
echo "== building the release binary"
swift build -c release --product cvmfs-swift > /tmp/cvmfs-swift-demo-build.log 2>&1 \
    || { grep -E "error" /tmp/cvmfs-swift-demo-build.log | head -20; echo "build failed (log: /tmp/cvmfs-swift-demo-build.log)"; exit 1; }
grep -E "complete" /tmp/cvmfs-swift-demo-build.log | sed 's/^/   /'
export CVMFS_SWIFT_BIN="$(swift build -c release --show-bin-path)/cvmfs-swift"
source integration/lib.sh
source integration/lib-containers.sh
trap ctr_cleanup EXIT
ctr_install debootstrap docker-registry skopeo umoci podman runc bubblewrap attr
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

echo "== [1/2] a Debian image with python3, built offline from Debian's packages"
TREE=$(ctr_python_tree)
echo "   tree: $(mib "$(du -sb --exclude=./.done "$TREE" | cut -f1)"), $(find "$TREE" | wc -l) entries"

ctr_podman_setup "$WORK/podman"
# port 5000 as usual for a registry, unless taken
REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 5000)); print(5000)' 2>/dev/null || free_port)
start_registry "$REG_PORT"
IMAGE=$REG/library/python:3.11-bookworm
t=$(date +%s%N)
tar -C "$TREE" --exclude=./.done -c . | podman import -q --change 'CMD ["/usr/bin/python3"]' - localhost/demo/python:3.11 >/dev/null
podman push -q --tls-verify=false localhost/demo/python:3.11 "$IMAGE"
podman rmi -f localhost/demo/python:3.11 >/dev/null
IMAGE_BYTES=$(skopeo inspect --raw --tls-verify=false "docker://$IMAGE" | python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
echo "   pushed to the loopback registry as $IMAGE ($(mib "$IMAGE_BYTES") compressed, $(ms_since "$t") ms)"

echo "== converting: cvmfs-swift convert recipe.yaml --insecure"
FQRN=unpacked.demo.local
mkdir -p "$WORK/www/cvmfs"
cat > "$WORK/recipe.yaml" <<YAML
version: 1
user: demo
cvmfs_repo: $FQRN
input:
  - $IMAGE
YAML
sed 's/^/   | /' "$WORK/recipe.yaml"
t=$(date +%s%N)
"$CVMFS_SWIFT_BIN" convert "$WORK/recipe.yaml" --insecure --output "$WORK/www/cvmfs/$FQRN" --keys "$WORK/keys" \
    --staging "$WORK/staging" --quiet | sed 's/^/   /'
echo "   converted and published in $(ms_since "$t") ms"
FLAT=$(readlink -f "$WORK/staging/$IMAGE")
UNPACKED_BYTES=$(du -sb "$FLAT" | cut -f1)

echo "== serving with nginx, mounting at /cvmfs/$FQRN (empty cache) and running python3 from it"
start_nginx A "$WORK/www"
write_config "$WORK/demo-images.conf" $FQRN "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache-images"
MNT=/cvmfs/$FQRN
IMG=$MNT/$IMAGE
PY='import sys, platform; print("hello from python", sys.version.split()[0], "in", platform.freedesktop_os_release()["PRETTY_NAME"])'
echo "   \$ podman run --rm --network=none --rootfs '$IMG:O' python3 -c '...'"
t=$(date +%s%N)
mount_repo $FQRN "$MNT" "$WORK/demo-images.conf"
MOUNT_MS=$(ms_since "$t")
out=$(podman run --rm --network=none --rootfs "$IMG:O" python3 -c "$PY")
COLD_MS=$(ms_since "$t")
echo "   $out"
FETCHED=$(awk '{ b += $4 } END { print b + 0 }' "$NGINX_LOG_A")
REQUESTS=$(wc -l < "$NGINX_LOG_A")
echo "   mount + first output from an empty cache: $COLD_MS ms (mount $MOUNT_MS ms); fetched $(mib "$FETCHED") in $REQUESTS requests"
t=$(date +%s%N); podman run --rm --network=none --rootfs "$IMG:O" python3 -c "$PY" >/dev/null
WARM_MS=$(ms_since "$t")
echo "   again, warm cache: $WARM_MS ms"
# once more from an empty cache, with bwrap (no container engine in the way)
FETCHED=$(awk '{ b += $4 } END { print b + 0 }' "$NGINX_LOG_A")
unmount_repo "$MNT"
rm -rf "$WORK/cache-images"
: > "$NGINX_LOG_A"
t=$(date +%s%N)
mount_repo $FQRN "$MNT" "$WORK/demo-images.conf"
out=$(bwrap --ro-bind "$IMG" / --proc /proc --dev /dev --tmpfs /tmp --unshare-pid python3 -c "$PY")
BWRAP_MS=$(ms_since "$t")
echo "   \$ bwrap --ro-bind '$IMG' / ... python3 -c '...'   (remounted, empty cache: $BWRAP_MS ms, fetched $(mib "$(awk '{ b += $4 } END { print b + 0 }' "$NGINX_LOG_A")"))"
echo "   $out"
if [ "$APPTAINER" = yes ] || { [ "$APPTAINER" = auto ] && [ -x "$CTR_CACHE/sidroot/usr/bin/apptainer" ]; }; then
    ctr_sid_tree
    t=$(date +%s%N)
    out=$(ctr_in_sid /cvmfs apptainer -s exec "$IMG" python3 -c "$PY")
    echo "   \$ apptainer exec '$IMG' python3 -c '...'   ($(ms_since "$t") ms, from the Debian sid tree)"
    echo "   $out"
else
    echo "   (apptainer: run with --apptainer; it needs a Debian sid tree, about a minute once)"
fi

echo "== for comparison: pulling and unpacking the whole image first"
t=$(date +%s%N)
podman pull -q --tls-verify=false "$IMAGE" >/dev/null
podman run --rm --network=none "$IMAGE" python3 -c "$PY" >/dev/null
PULL_MS=$(ms_since "$t")
echo "   podman pull + podman run: $PULL_MS ms"
t=$(date +%s%N)
skopeo copy -q --src-tls-verify=false "docker://$IMAGE" "oci:$WORK/oci:demo"
umoci raw unpack --image "$WORK/oci:demo" "$WORK/unpacked" 2>/dev/null
bwrap --ro-bind "$WORK/unpacked" / --proc /proc --dev /dev --tmpfs /tmp --unshare-pid python3 -c "$PY" >/dev/null
UMOCI_MS=$(ms_since "$t")
echo "   skopeo copy + umoci raw unpack + bwrap: $UMOCI_MS ms"

echo "== figures"
echo "   image: $(mib "$IMAGE_BYTES") compressed, $(mib "$UNPACKED_BYTES") unpacked ($(find "$FLAT" | wc -l) entries)"
awk -v f="$FETCHED" -v c="$IMAGE_BYTES" -v u="$UNPACKED_BYTES" 'BEGIN {
    printf "   fetched from the repository to run python3: %.1f MiB = %.1f%% of the compressed image, %.1f%% of the unpacked\n", f / 1048576, 100 * f / c, 100 * f / u }'
echo "   time to first output, empty cache: cvmfs mount + podman run $COLD_MS ms | cvmfs mount + bwrap $BWRAP_MS ms"
echo "                                      podman pull + run $PULL_MS ms | skopeo copy + umoci unpack + bwrap $UMOCI_MS ms"
echo "   warm cache: podman run --rootfs $WARM_MS ms"
"$CVMFS_SWIFT_BIN" talk -i $FQRN --config "$WORK/demo-images.conf" cache size | sed 's/^/   /'
podman rmi -f "$IMAGE" >/dev/null
unmount_repo "$MNT"
rmdir "$MNT" 2>/dev/null || true

RTT=${DEMO_RTT_MS:-20}
echo "== cold start at $RTT ms round-trip time (a latency proxy in front of nginx), without and with a start-up profile"
write_config "$WORK/demo-record.conf" $FQRN "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache-record"
mount_repo $FQRN "$MNT" "$WORK/demo-record.conf"
"$CVMFS_SWIFT_BIN" profile record "$IMG" --output "$WORK/python.profile" --seconds 60 2>/dev/null &
REC=$!
sleep 0.5
bwrap --ro-bind "$IMG" / --proc /proc --dev /dev --tmpfs /tmp --unshare-pid python3 -c "$PY" >/dev/null
kill -INT $REC; wait $REC
unmount_repo "$MNT"
echo "   \$ cvmfs-swift profile record '$IMG' --output python.profile   (while python3 ran: $(grep -vc '^#' "$WORK/python.profile") items)"
{ cat "$WORK/recipe.yaml"; echo "profiles:"; echo "  $IMAGE: python.profile"; } > "$WORK/recipe-profile.yaml"
mv "$WORK/recipe-profile.yaml" "$WORK/recipe.yaml"
echo "   recipe.yaml gains:"; sed -n '/^profiles:/,$p' "$WORK/recipe.yaml" | sed 's/^/   | /'
"$CVMFS_SWIFT_BIN" convert "$WORK/recipe.yaml" --insecure --output "$WORK/www/cvmfs/$FQRN" --keys "$WORK/keys" \
    --staging "$WORK/staging" --quiet | grep -E "profile|published" | sed 's/^/   /'
start_latency_proxy P "$NGINX_PORT_A" "$RTT"
# latency_start CONFIG-EXTRA...: mount with an empty cache through the proxy, run python3 once
latency_start() {
    rm -rf "$WORK/cache-latency"
    write_config "$WORK/demo-latency.conf" $FQRN "http://127.0.0.1:$LATENCY_PORT_P/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache-latency" "$@"
    : > "$NGINX_LOG_A"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    local t; t=$(date +%s%N)
    mount_repo $FQRN "$MNT" "$WORK/demo-latency.conf"
    bwrap --ro-bind "$IMG" / --proc /proc --dev /dev --tmpfs /tmp --unshare-pid python3 -c "$PY" >/dev/null
    LATENCY_MS=$(ms_since "$t")
    PROFILE_LINE=$("$CVMFS_SWIFT_BIN" stat -v "$MNT" | sed -n 's/^Start-up Profiles: //p')
    unmount_repo "$MNT"
    LATENCY_FETCHED=$(mib "$(awk '{ b += $4 } END { print b + 0 }' "$NGINX_LOG_A")") LATENCY_REQUESTS=$(wc -l < "$NGINX_LOG_A")
}
latency_start CVMFS_SWIFT_PROFILES=no
echo "   mount + bwrap python3, empty cache, profiles off (CVMFS_SWIFT_PROFILES=no): $LATENCY_MS ms, $LATENCY_REQUESTS requests, $LATENCY_FETCHED"
latency_start
echo "   mount + bwrap python3, empty cache, with the profile:                      $LATENCY_MS ms, $LATENCY_REQUESTS requests, $LATENCY_FETCHED"
echo "   cvmfs-swift stat -v: Start-up Profiles: $PROFILE_LINE"
kill "$LATENCY_PID"; wait "$LATENCY_PID" 2>/dev/null || true
rmdir "$MNT" 2>/dev/null || true

if [ "$PLAIN" = no ]; then echo "done"; exit 0; fi
FQRN=demo.cvmfs.local
echo "== [2/2] generating the demo tree"
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

echo "== [2/2] publishing"
"$CVMFS_SWIFT_BIN" publish "$SRC" "$WORK/www/cvmfs/$FQRN" --name $FQRN --keys "$WORK/keys" \
    --chunk-min 1048576 --chunk-avg 2097152 --chunk-max 4194304 | sed 's/^/   /'
"$CVMFS_SWIFT_BIN" verify "$WORK/www/cvmfs/$FQRN" --key "$WORK/keys/$FQRN.pub" | sed 's/^/   /'

echo "== [2/2] serving with nginx and mounting at /cvmfs/$FQRN"
start_nginx B "$WORK/www"
write_config "$WORK/demo.conf" $FQRN "http://127.0.0.1:$NGINX_PORT_B/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
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

echo "== [2/2] figures"
size=$(du -sb "$SRC" | cut -f1)
rx=$(getfattr --absolute-names --only-values -n user.rx "$MNT")
nd=$(getfattr --absolute-names --only-values -n user.ndownload "$MNT")
echo "   repository content: $((size / 1024)) KiB; fetched over HTTP: ${rx} KiB in ${nd} downloads"
"$CVMFS_SWIFT_BIN" talk -i $FQRN --config "$WORK/demo.conf" cache size | sed 's/^/   /'
echo "   revision $(getfattr --absolute-names --only-values -n user.revision "$MNT"), root catalog $(getfattr --absolute-names --only-values -n user.root_hash "$MNT")"

echo "== [2/2] unmounting"
unmount_repo "$MNT"
rmdir "$MNT" 2>/dev/null || true
echo "done"
