#!/bin/bash
# The configuration as installed from mountconfig/: `mount -t cvmfs` through
# the mount.cvmfs helper with the standard configuration chain (default.conf,
# default.local, domain.d), `probe` and `stat` on the mount, `umount`, and the
# autofs map's answers.
source "$(dirname "$0")/lib.sh"
cleanup_helper() {
    [ -n "${LINKED_HELPER:-}" ] && rm -f /sbin/mount.cvmfs
    cleanup
}
trap cleanup_helper EXIT

SRC="$WORK/src"
mkdir -p "$SRC/bin"
echo "through mount -t cvmfs" > "$SRC/bin/message"
"$BIN" publish "$SRC" "$WORK/www/cvmfs/helper.test.local" --name helper.test.local --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"

ETC="$WORK/root/etc/cvmfs"
"$ROOT/mountconfig/install.sh" --prefix "$WORK/root" > /dev/null
mkdir -p "$ETC/keys/test.local"
cp "$WORK/keys/helper.test.local.pub" "$ETC/keys/test.local/"
cat > "$ETC/domain.d/test.local.conf" <<CONF
CVMFS_SERVER_URL="http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@"
CVMFS_KEYS_DIR=$ETC/keys/test.local
CONF
cat > "$ETC/default.local" <<CONF
CVMFS_HTTP_PROXY=DIRECT
CVMFS_CACHE_BASE=$WORK/cache
CVMFS_QUOTA_LIMIT=1000
CVMFS_REPOSITORIES=helper.test.local
CONF
export CVMFS_CONFIG_DIR="$ETC"
export CVMFS_SWIFT_BIN="$BIN"

# The helper's dry run prints the client command line.
"$WORK/root/sbin/mount.cvmfs" helper.test.local /cvmfs/helper.test.local -f | grep -q "mount helper.test.local /cvmfs/helper.test.local" \
    || fail "mount.cvmfs -f dry run"
# Invalid names are refused before anything runs.
if "$WORK/root/sbin/mount.cvmfs" 'bad name!' "$WORK/x" 2>/dev/null; then fail "invalid repository name accepted"; fi

if [ ! -e /sbin/mount.cvmfs ]; then
    ln -s "$WORK/root/sbin/mount.cvmfs" /sbin/mount.cvmfs
    LINKED_HELPER=1
fi
MNT="$WORK/cvmfs/helper.test.local"
mkdir -p "$MNT"
MOUNTS+=("$MNT")
mount -t cvmfs helper.test.local "$MNT" || fail "mount -t cvmfs"
PIDS+=("$(getfattr --absolute-names --only-values -n user.pid "$MNT")")
[ "$(cat "$MNT/bin/message")" = "through mount -t cvmfs" ] || fail "content through mount -t cvmfs"
grep -q "^cvmfs2 $MNT fuse" /proc/mounts || fail "the mount's file-system name is cvmfs2"
pass "mount -t cvmfs with the installed configuration chain"

"$BIN" probe --mount-dir "$WORK/cvmfs" | grep -q "Probing $MNT... OK" || fail "probe"
if "$BIN" probe --mount-dir "$WORK/cvmfs" other.test.local > /dev/null; then fail "probe of an unmounted repository succeeded"; fi
"$BIN" stat --mount-dir "$WORK/cvmfs" helper.test.local > "$WORK/stat.txt"
head -1 "$WORK/stat.txt" | grep -q "^VERSION PID UPTIME(M) MEM(K) REVISION" || fail "stat header"
[ "$(sed -n 2p "$WORK/stat.txt" | awk '{print $5}')" = 1 ] || fail "stat revision column: $(cat "$WORK/stat.txt")"
[ "$(sed -n 2p "$WORK/stat.txt" | awk '{print $19}')" = 1 ] || fail "stat online column"
"$BIN" stat -v --mount-dir "$WORK/cvmfs" helper.test.local | grep -q "^File Catalog Revision: 1" || fail "stat -v"
pass "probe and stat"

# The installed cvmfs_config wrapper: the verbs scripts use, on this client.
CC="$WORK/root/usr/bin/cvmfs_config"
"$CC" probe --mount-dir "$WORK/cvmfs" | grep -q "Probing $MNT... OK" || fail "cvmfs_config probe"
"$CC" stat --mount-dir "$WORK/cvmfs" helper.test.local | head -1 | grep -q "^VERSION PID" || fail "cvmfs_config stat"
"$CC" showconfig helper.test.local > "$WORK/showconfig.txt" || fail "cvmfs_config showconfig"
head -1 "$WORK/showconfig.txt" | grep -qx "CVMFS_REPOSITORY_NAME=helper.test.local" || fail "showconfig first line: $(head -1 "$WORK/showconfig.txt")"
grep -Eq "^CVMFS_QUOTA_LIMIT=1000 +# from $ETC/default.local\$" "$WORK/showconfig.txt" || fail "showconfig: the quota from default.local: $(grep QUOTA "$WORK/showconfig.txt")"
grep -Eq "^CVMFS_SERVER_URL=http://127.0.0.1:$NGINX_PORT_A/cvmfs/helper.test.local +# from $ETC/domain.d/test.local.conf\$" "$WORK/showconfig.txt" \
    || fail "showconfig: the server URL from domain.d: $(grep SERVER_URL "$WORK/showconfig.txt")"
"$CC" showconfig -s helper.test.local | grep -Eq "^[A-Z_0-9]+= *(#|$)" && fail "showconfig -s printed an empty parameter"
if "$CC" setup 2> "$WORK/cc.err"; then fail "cvmfs_config setup claimed success"; fi
grep -q "not supported by cvmfs-swift" "$WORK/cc.err" || fail "unsupported verb message: $(cat "$WORK/cc.err")"
pass "cvmfs_config probe, stat and showconfig (values with the file that set them); other verbs refused clearly"
[ "$("$CC" chksetup)" = OK ] || fail "chksetup: $("$CC" chksetup)"
echo 'CVMFS_QUOTA_LIMIT=$((' > "$ETC/config.d/broken.conf"
out=$("$CC" chksetup) && fail "chksetup passed a broken file"
rm "$ETC/config.d/broken.conf"
grep -q "^Error: $ETC/config.d/broken.conf is not valid shell" <<< "$out" || fail "chksetup said: $out"
pass "cvmfs_config chksetup: OK, and a broken configuration file named"
cat "$MNT/bin/message" > /dev/null
CACHE_DIR="$WORK/cache/shared"   # default.conf: CVMFS_SHARED_CACHE=yes
used=$(cache_bytes "$CACHE_DIR")
[ "$used" -gt 0 ] || fail "nothing cached before wipecache"
out=$("$CC" wipecache --mount-dir "$WORK/cvmfs") || fail "wipecache failed: $out"
[[ "$out" == "Wiping out the cache of $MNT: "* ]] || fail "wipecache said: $out"
left=$(cache_bytes "$CACHE_DIR")
[ "$left" -lt "$used" ] || fail "wipecache left $left of $used bytes"
[ "$(cat "$MNT/bin/message")" = "through mount -t cvmfs" ] || fail "content after wipecache"
# reload: a new proxy list and server list reach the running mount; other changes are named.
cp "$ETC/default.local" "$WORK/default.local.orig"
echo "CVMFS_HTTP_PROXY='http://127.0.0.1:$(dead_port);DIRECT'" >> "$ETC/default.local"
echo "CVMFS_TIMEOUT=3" >> "$ETC/default.local"
out=$("$CC" reload helper) || fail "reload: $out"
[ "$out" = "Reloading helper.test.local on $MNT: Reload finished; these take effect at the next mount: CVMFS_TIMEOUT" ] || fail "reload said: $out"
"$BIN" talk -p "$(getfattr --absolute-names --only-values -n user.talk_socket "$MNT")" proxy info | grep -q "^\[1\] DIRECT" \
    || fail "reload: proxy info: $("$BIN" talk -p "$(getfattr --absolute-names --only-values -n user.talk_socket "$MNT")" proxy info)"
cat "$MNT/bin/message" > /dev/null || fail "read after reload"
[ -z "$("$CC" reload other.test.local)" ] || fail "reload of another repository touched this one"
cp "$WORK/default.local.orig" "$ETC/default.local"
pass "cvmfs_config reload: the new proxy groups are in use, the changed CVMFS_TIMEOUT is named for the next mount"
pass "cvmfs_config wipecache: the cache went from $used to $left bytes (pinned catalogs stay); reads go on"

umount "$MNT" || fail "umount"
grep -q " $MNT " /proc/mounts && fail "still mounted after umount"
pass "umount"

# cvmfs_config umount and killall: our mounts below the mount dir, and nothing else.
mount -t cvmfs helper.test.local "$MNT" || fail "mount again"
out=$("$CC" umount --mount-dir "$WORK/cvmfs") || fail "cvmfs_config umount: $out"
[ "$out" = "Unmounting $MNT: OK" ] || fail "cvmfs_config umount said: $out"
grep -q " $MNT " /proc/mounts && fail "still mounted after cvmfs_config umount"
mount -t cvmfs helper.test.local "$MNT" || fail "mount a third time"
pid=$(getfattr --absolute-names --only-values -n user.pid "$MNT")
PIDS+=("$pid")
out=$("$CC" killall --mount-dir "$WORK/cvmfs")
[ "$out" = "Killed $pid serving $MNT" ] || fail "cvmfs_config killall said: $out"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "killall: $pid still runs"
grep -q " $MNT " /proc/mounts && fail "still mounted after cvmfs_config killall"
[ -z "$("$CC" umount --mount-dir "$WORK/nothing-here")" ] || fail "umount outside the mount dir touched something"
pass "cvmfs_config umount and killall: only cvmfs-swift mounts below the mount dir"

[ "$("$WORK/root/etc/auto.cvmfs" helper.test.local)" = "-fstype=cvmfs :helper.test.local" ] || fail "autofs map answer"
if "$WORK/root/etc/auto.cvmfs" nodot > /dev/null; then fail "autofs map accepted a key without a dot"; fi
pass "autofs map"
