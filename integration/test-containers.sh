#!/bin/bash
# A converted image runs from the FUSE mount of the repository: bwrap with the image's root
# file system (reached through its public symlink) as /.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
command -v bwrap >/dev/null || apt-get install -y bubblewrap >/dev/null 2>&1 || true
command -v bwrap >/dev/null || fail "bwrap is not installed"

FQRN=unpacked.test.local
OUT="$WORK/www/cvmfs/$FQRN"
mkdir -p "$WORK/www/cvmfs"
python3 "$HERE/make-test-image.py" "$WORK/layout" multilayer 1 >/dev/null
printf 'version: 1\nuser: test\ncvmfs_repo: %s\ninput:\n  - oci:%s:1 as localhost/test/shell:1\n' "$FQRN" "$WORK/layout" > "$WORK/recipe.yaml"
"$BIN" convert "$WORK/recipe.yaml" --output "$OUT" --keys "$WORK/keys" --staging "$WORK/staging" --quiet > /dev/null
start_nginx A "$WORK/www"
conf="$WORK/client.conf"
write_config "$conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT="$WORK/cvmfs/$FQRN"
mount_repo "$FQRN" "$MNT" "$conf"
IMG="$MNT/localhost/test/shell:1"
out=$(bwrap --ro-bind "$IMG" / --unshare-pid /bin/sh -c 'echo ok; read a < /etc/hello; echo $a; read b < /opt/link; echo $b') || fail "bwrap run failed"
[ "$out" = "$(printf 'ok\nhello v2\nhello v2')" ] || fail "unexpected output: $out"
pass "bwrap runs /bin/sh from the mounted image: $(echo $out)"
unmount_repo "$MNT"
