#!/bin/bash
# A configuration repository (CVMFS_CONFIG_REPOSITORY) published by our publisher: mounting a
# repository that has no local configuration of its own mounts the configuration repository
# first, once for all the mounts that need it, and takes the server URL and the key from its
# etc/cvmfs; showconfig names the file of every value (local files, a domain file, the
# configuration repository); with CVMFS_CONFIG_REPO_REQUIRED=yes a configuration repository
# that cannot be mounted refuses the dependent mount, naming why, and without it the mount
# goes on with the local configuration.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

CFG=cfg.test.local
start_nginx S1 "$WORK/www"
S1="http://127.0.0.1:$NGINX_PORT_S1/cvmfs/@fqrn@"
CV="$WORK/cvmfs"

# Two data repositories, each with its own key, that only the configuration repository knows.
for r in data data2; do
    mkdir -p "$WORK/src-$r/sub"
    head -c 300000 /dev/urandom > "$WORK/src-$r/sub/blob"
    echo "hello from $r" > "$WORK/src-$r/hello.txt"
    "$BIN" publish "$WORK/src-$r" "$WORK/www/cvmfs/$r.test.local" --name "$r.test.local" --keys "$WORK/keys" > /dev/null
done
E="$WORK/src-cfg/etc/cvmfs"
mkdir -p "$E/domain.d" "$E/config.d" "$E/keys/test.local"
cp "$WORK/keys/data.test.local.pub" "$WORK/keys/data2.test.local.pub" "$E/keys/test.local/"
cat > "$E/default.conf" <<'CONF'
CVMFS_CONFIG_REPO_DEFAULT_ENV=1
CONF
cat > "$E/domain.d/test.local.conf" <<CONF
CVMFS_SERVER_URL="$S1"
CVMFS_KEYS_DIR=$CV/$CFG/etc/cvmfs/keys/test.local
CVMFS_KCACHE_TIMEOUT=30
CONF
echo "CVMFS_MAX_RETRIES=2" > "$E/config.d/data.test.local.conf"
"$BIN" publish "$WORK/src-cfg" "$WORK/www/cvmfs/$CFG" --name "$CFG" --keys "$WORK/keys" > /dev/null

# The site's own /etc/cvmfs: the configuration repository's name and how to reach it, nothing
# about the data repositories.
site() {  # DIR CONFIG_REPO [REQUIRED]
    local etc=$1
    mkdir -p "$etc/default.d" "$etc/domain.d" "$etc/config.d"
    cat > "$etc/default.conf" <<CONF
CVMFS_HTTP_PROXY=DIRECT
CVMFS_MOUNT_DIR=$CV
CVMFS_CACHE_BASE=$WORK/cache-$(basename "$etc")
CVMFS_DEBUGLOG=$WORK/@fqrn@.debug.log
CONF
    { echo "CVMFS_CONFIG_REPOSITORY=$2"; [ -z "${3:-}" ] || echo "CVMFS_CONFIG_REPO_REQUIRED=$3"; } > "$etc/default.d/60-site.conf"
    echo "CVMFS_QUOTA_LIMIT=1500" > "$etc/default.local"
    echo "CVMFS_KCACHE_TIMEOUT=7" > "$etc/domain.d/test.local.local"
    printf "CVMFS_SERVER_URL='%s'\nCVMFS_PUBLIC_KEY=%s\n" "$S1" "$WORK/keys/$CFG.pub" > "$etc/config.d/$CFG.conf"
}
site "$WORK/etc" "$CFG"
track() { MOUNTS+=("$1"); PIDS+=("$(xattr "$1" pid)"); }

# 1. The data repository mounts with nothing but the configuration repository's files.
mkdir -p "$CV/data.test.local"
"$BIN" mount data.test.local "$CV/data.test.local" --config-dir "$WORK/etc" || fail "data.test.local did not mount"
track "$CV/data.test.local"
grep -q " $CV/$CFG fuse" /proc/mounts || fail "the configuration repository was not mounted at $CV/$CFG"
track "$CV/$CFG"
cmp -s "$WORK/src-data/sub/blob" "$CV/data.test.local/sub/blob" || fail "data: sub/blob differs"
[ "$(cat "$CV/data.test.local/hello.txt")" = "hello from data" ] || fail "data: hello.txt"
[ -f "$CV/$CFG/etc/cvmfs/domain.d/test.local.conf" ] || fail "the configuration repository does not show its files"
pass "data.test.local mounted with its server and key from $CFG, which was mounted first at $CV/$CFG"

# 2. A second dependent mount shares the mounted configuration repository.
mkdir -p "$CV/data2.test.local"
"$BIN" mount data2.test.local "$CV/data2.test.local" --config-dir "$WORK/etc" || fail "data2.test.local did not mount"
track "$CV/data2.test.local"
[ "$(cat "$CV/data2.test.local/hello.txt")" = "hello from data2" ] || fail "data2: hello.txt"
[ "$(grep -c " $CV/$CFG fuse" /proc/mounts)" = 1 ] || fail "the configuration repository is mounted more than once"
pass "data2.test.local mounted too; $CFG is mounted once for both"

# 3. showconfig names every value's file.
"$BIN" showconfig data.test.local --config-dir "$WORK/etc" > "$WORK/showconfig.txt"
want() {  # NAME VALUE FILE
    grep -qE "^$1=$2 +# from $3\$" "$WORK/showconfig.txt" || fail "showconfig: wanted $1=$2 from $3; got: $(grep "^$1=" "$WORK/showconfig.txt")"
}
want CVMFS_SERVER_URL "http://127.0.0.1:$NGINX_PORT_S1/cvmfs/data.test.local" "$CV/$CFG/etc/cvmfs/domain.d/test.local.conf"
want CVMFS_KEYS_DIR "$CV/$CFG/etc/cvmfs/keys/test.local" "$CV/$CFG/etc/cvmfs/domain.d/test.local.conf"
want CVMFS_MAX_RETRIES 2 "$CV/$CFG/etc/cvmfs/config.d/data.test.local.conf"
want CVMFS_CONFIG_REPO_DEFAULT_ENV 1 "$CV/$CFG/etc/cvmfs/default.conf"
want CVMFS_QUOTA_LIMIT 1500 "$WORK/etc/default.local"
want CVMFS_KCACHE_TIMEOUT 7 "$WORK/etc/domain.d/test.local.local"
want CVMFS_CONFIG_REPOSITORY "$CFG" "$WORK/etc/default.d/60-site.conf"
want CVMFS_HTTP_PROXY DIRECT "$WORK/etc/default.conf"
pass "showconfig names the file of each value: default.conf, default.d, default.local, a domain file, three files of $CFG"

# 4. A configuration repository that cannot be mounted (nothing configures gone.test.local).
site "$WORK/etc-req" gone.test.local yes
printf "CVMFS_SERVER_URL='%s'\nCVMFS_PUBLIC_KEY=%s\n" "$S1" "$WORK/keys/data.test.local.pub" > "$WORK/etc-req/config.d/data.test.local.conf"
mkdir -p "$WORK/alt/data.test.local"
if "$BIN" mount data.test.local "$WORK/alt/data.test.local" --config-dir "$WORK/etc-req" 2> "$WORK/req.err"; then
    track "$WORK/alt/data.test.local"
    fail "mounted although the required configuration repository is missing"
fi
grep -q "CVMFS_CONFIG_REPO_REQUIRED is on and the configuration repository gone.test.local cannot be mounted at $CV/gone.test.local: mounting it failed: .*CVMFS_SERVER_URL is not set" "$WORK/req.err" \
    || fail "required: message: $(cat "$WORK/req.err")"
grep -q " $WORK/alt/data.test.local " /proc/mounts && fail "required: mounted anyway"
pass "CVMFS_CONFIG_REPO_REQUIRED=yes: refused: $(cat "$WORK/req.err")"
site "$WORK/etc-req" gone.test.local no
"$BIN" mount data.test.local "$WORK/alt/data.test.local" --config-dir "$WORK/etc-req" || fail "not required: did not mount"
track "$WORK/alt/data.test.local"
[ "$(cat "$WORK/alt/data.test.local/hello.txt")" = "hello from data" ] || fail "not required: hello.txt"
grep -q "configuration repository gone.test.local is not available" "$WORK/data.test.local.debug.log" || fail "not required: nothing logged"
pass "without CVMFS_CONFIG_REPO_REQUIRED the mount goes on with the local configuration and logs why"

for m in "$WORK/alt/data.test.local" "$CV/data2.test.local" "$CV/data.test.local" "$CV/$CFG"; do unmount_repo "$m"; done
