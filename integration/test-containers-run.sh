#!/bin/bash
# Containers run straight from the mounted repository, through the image's public symlink:
# bwrap (the image as /), `podman run --rootfs IMAGE:O` (overlay, FUSE dir as lower layer) and
# `apptainer exec IMAGE` (apptainer from Debian sid, run inside a sid tree: Debian 12 has none).
# Each prints what the image's files say, read through the FUSE mount.
source "$(dirname "$0")/lib.sh"
source "$HERE/lib-containers.sh"
trap ctr_cleanup EXIT
ctr_install bubblewrap podman runc debootstrap || fail "cannot install bubblewrap, podman, runc, debootstrap"

# the image: multi-layer, /bin/sh (dash) + libc, a file changed in a later layer, a symlink
ctr_serve_test_image
CV="$WORK/cvmfs"                    # stands in for /cvmfs
mount_repo "$FQRN" "$CV/$FQRN" "$conf"
IMG="$CV/$FQRN/$NAME"
[ -L "$IMG" ] || fail "$IMG is not the public symlink"

CMD='echo ok; read a < /etc/hello; echo $a; read b < /opt/link; echo $b'
WANT=$(printf 'ok\nhello v2\nhello v2')
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
check() { # NAME OUTPUT START
    [ "$2" = "$WANT" ] || { printf '%s\n' "$2" | sed 's/^/    /' >&2; fail "$1: unexpected output"; }
    pass "$1 runs /bin/sh from the mounted image: $(echo $2) ($(ms_since "$3") ms)"
}

t=$(date +%s%N)
out=$(bwrap --ro-bind "$IMG" / --unshare-pid /bin/sh -c "$CMD" 2>&1) || { echo "$out"; fail "bwrap"; }
check "bwrap --ro-bind IMAGE /" "$out" "$t"

ctr_podman_setup "$WORK/podman"
t=$(date +%s%N)
out=$(podman run --rm --network=none --rootfs "$IMG:O" /bin/sh -c "$CMD" 2>&1) || { echo "$out"; fail "podman --rootfs"; }
check "podman run --rootfs IMAGE:O" "$out" "$t"
# the container's writes go to the overlay's upper layer, never to the repository
out=$(podman run --rm --network=none --rootfs "$IMG:O" /bin/sh -c 'echo changed > /etc/hello; read a < /etc/hello; echo $a' 2>&1) \
    || { echo "$out"; fail "podman --rootfs write"; }
[ "$out" = changed ] && [ "$(cat "$IMG/etc/hello")" = "hello v2" ] || fail "podman overlay write: '$out', mount has '$(cat "$IMG/etc/hello")'"
pass "podman --rootfs IMAGE:O writes to the overlay, the repository is unchanged"

t=$(date +%s%N)
ctr_sid_tree || fail "cannot build the Debian sid tree with apptainer"
echo "   (sid tree with apptainer ready in $(ms_since "$t") ms)"
ctr_in_sid "$CV" apptainer --version | grep -q "apptainer version" || fail "apptainer in the sid tree"
t=$(date +%s%N)
out=$(ctr_in_sid "$CV" apptainer -s exec "/cvmfs/$FQRN/$NAME" /bin/sh -c "$CMD" 2>&1) || { echo "$out"; fail "apptainer exec"; }
check "apptainer exec /cvmfs/$FQRN/$NAME" "$out" "$t"
# `apptainer run` starts the image's CMD (/bin/sh, reading the script from stdin) with the
# image's ENV (PATH=/bin): the converter's .singularity.d/runscript and env/10-docker2singularity.sh
out=$(echo 'echo "ran with PATH=$PATH"' | ctr_in_sid "$CV" apptainer -s run "/cvmfs/$FQRN/$NAME" 2>&1) || { echo "$out"; fail "apptainer run"; }
# (apptainer appends its default PATH; without the image's ENV /bin would come last)
case "$out" in "ran with PATH=/bin" | "ran with PATH=/bin:"*) ;; *) fail "apptainer run: '$out'" ;; esac
pass "apptainer run starts the image's CMD with the image's ENV: $out"
# as an unprivileged user (user namespace; needs the mount's allow_other)
t=$(date +%s%N)
out=$(ctr_in_sid "$CV" setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp \
      apptainer -s exec "/cvmfs/$FQRN/$NAME" /bin/sh -c "$CMD" 2>&1) || { echo "$out"; fail "apptainer exec as nobody"; }
check "apptainer exec as nobody" "$out" "$t"

unmount_repo "$CV/$FQRN"
