#!/bin/bash
# Hosts and proxies (docs/format/client-behaviour.md §4–5) through a real mount: a stopped first host and a
# first host answering 404 fail over to the second; a proxy group with a dead member uses the
# other member (squid); dead proxies fall back to DIRECT only where DIRECT is configured;
# CVMFS_FALLBACK_PROXY is used after the regular groups; `auto` that finds nothing and nothing
# else to use, `auto` inside a `|` group, and DIRECT in the fallback list refuse to mount with a
# clear message (discovery itself: test-proxy-auto.sh).
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=fo.test.local
SRC="$WORK/src"
mkdir -p "$SRC/dir"
for i in $(seq -w 1 12); do head -c $((40000 + 1000 * 10#$i)) /dev/urandom > "$SRC/dir/f$i"; done
echo "hello" > "$SRC/hello.txt"
REPO="$WORK/www/cvmfs/$FQRN"
"$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" > /dev/null
mkdir -p "$WORK/empty"
start_nginx GOOD "$WORK/www"
start_nginx EMPTY "$WORK/empty"         # up, but answers 404 for everything
start_nginx STOPPED "$WORK/www"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
start_squid Q
DEAD=$(dead_port)
GOOD_URL="http://127.0.0.1:$NGINX_PORT_GOOD/cvmfs/@fqrn@"
KEY="$WORK/keys/$FQRN.pub"
n=0

# check_all MNT: every file reads back byte-identical.
check_all() {
    local mnt=$1 f
    for f in hello.txt $(cd "$SRC" && ls dir | sed 's#^#dir/#'); do
        cmp -s "$SRC/$f" "$mnt/$f" || fail "$f differs through $mnt"
    done
}

# try_mount NAME SERVER_URL EXTRA...: mounts with a fresh cache; sets MNT.
try_mount() {
    local name=$1 url=$2
    shift 2
    n=$((n + 1))
    MNT="$WORK/cvmfs/$name"
    write_config "$WORK/$name.conf" "$FQRN" "$url" "$KEY" "$WORK/cache-$n" \
        CVMFS_TIMEOUT=2 CVMFS_TIMEOUT_DIRECT=2 CVMFS_BACKOFF_INIT=1 "$@"
    # write_config writes CVMFS_HTTP_PROXY=DIRECT first; a later line in EXTRA overrides it.
    mount_repo "$FQRN" "$MNT" "$WORK/$name.conf"
}

# 1. Stopped first host (connection refused), then a first host that answers 404.
t0=$(date +%s%N)
try_mount stopped "http://127.0.0.1:$NGINX_PORT_STOPPED/cvmfs/@fqrn@;$GOOD_URL"
ms=$(elapsed_ms "$t0")
check_all "$MNT"
[ "$(xattr "$MNT" host)" = "http://127.0.0.1:$NGINX_PORT_GOOD/cvmfs/$FQRN" ] || fail "user.host is $(xattr "$MNT" host)"
unmount_repo "$MNT"
pass "stopped first host: mount in ${ms} ms, every file read from the second host"

try_mount h404 "http://127.0.0.1:$NGINX_PORT_EMPTY/cvmfs/@fqrn@;$GOOD_URL"
check_all "$MNT"
[ "$(xattr "$MNT" host)" = "http://127.0.0.1:$NGINX_PORT_GOOD/cvmfs/$FQRN" ] || fail "404 host: user.host is $(xattr "$MNT" host)"
unmount_repo "$MNT"
grep -q "GET /cvmfs/$FQRN/.cvmfspublished 404" "$NGINX_LOG_EMPTY" || fail "the 404 host was never asked"
pass "first host answering 404: every file read from the second host"

# Geo API (CVMFS_USE_GEOAPI): the second host says it is the nearer one; the first answers
# 404 to everything, so after the reordering it is never asked for the repository.
mkdir -p "$REPO/api/v1.0/geo/site"
printf '2,1\n' > "$REPO/api/v1.0/geo/site/127.0.0.1,127.0.0.1"
: > "$NGINX_LOG_EMPTY"
try_mount geo "http://127.0.0.1:$NGINX_PORT_EMPTY/cvmfs/@fqrn@;$GOOD_URL" CVMFS_USE_GEOAPI=yes CVMFS_PROXY_TEMPLATE=site
check_all "$MNT"
[ "$(xattr "$MNT" host)" = "http://127.0.0.1:$NGINX_PORT_GOOD/cvmfs/$FQRN" ] || fail "geo: user.host is $(xattr "$MNT" host)"
"$BIN" talk -p "$(xattr "$MNT" talk_socket)" host info | grep -q "\[0\] http://127.0.0.1:$NGINX_PORT_GOOD/" \
    || fail "geo: host info: $("$BIN" talk -p "$(xattr "$MNT" talk_socket)" host info)"
unmount_repo "$MNT"
! grep -q "cvmfspublished" "$NGINX_LOG_EMPTY" || fail "geo: the farther host was asked for the manifest"
pass "Geo API: the hosts in the order the server gave, the farther one never asked for the repository"

# 2. Proxy group with a dead member: the other member (squid) serves. The member is chosen at
#    random, so mount a few times; at least once the dead one must have been tried first.
for i in 1 2 3; do
    try_mount group$i "$GOOD_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$DEAD|http://127.0.0.1:$SQUID_PORT_Q"
    check_all "$MNT"
    [ "$(xattr "$MNT" proxy)" = "http://127.0.0.1:$SQUID_PORT_Q" ] || fail "group: user.proxy is $(xattr "$MNT" proxy)"
    unmount_repo "$MNT"
done
grep -q "TCP_MISS/200 .*/cvmfs/$FQRN/data/" "$SQUID_LOG_Q" || fail "no object went through squid"
pass "proxy group with a dead member: all reads through squid ($(grep -c /data/ "$SQUID_LOG_Q") object requests in squid's log)"

# 3. Dead proxy then DIRECT works; a dead proxy alone does not mount.
try_mount direct "$GOOD_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$DEAD;DIRECT"
check_all "$MNT"
[ "$(xattr "$MNT" proxy)" = DIRECT ] || fail "dead;DIRECT: user.proxy is $(xattr "$MNT" proxy)"
unmount_repo "$MNT"
pass "CVMFS_HTTP_PROXY=dead;DIRECT reads directly"

write_config "$WORK/noproxy.conf" "$FQRN" "$GOOD_URL" "$KEY" "$WORK/cache-noproxy" \
    CVMFS_TIMEOUT=2 "CVMFS_HTTP_PROXY=http://127.0.0.1:$DEAD"
mkdir -p "$WORK/cvmfs/noproxy"
MOUNTS+=("$WORK/cvmfs/noproxy")
if "$BIN" mount "$FQRN" "$WORK/cvmfs/noproxy" -o "config=$WORK/noproxy.conf" 2> "$WORK/noproxy.err"; then
    fail "mounted through a dead proxy without DIRECT"
fi
grep -q "127.0.0.1:$DEAD" "$WORK/noproxy.err" || fail "dead proxy: message does not name the proxy: $(cat "$WORK/noproxy.err")"
pass "CVMFS_HTTP_PROXY=dead alone: mount refused ($(head -c 160 "$WORK/noproxy.err" | tr '\n' ' '))"

# A proxy that dies after the mount: reads of uncached files give EIO, cached ones still work.
start_squid Q2
try_mount q2 "$GOOD_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$SQUID_PORT_Q2"
cmp -s "$SRC/dir/f01" "$MNT/dir/f01" || fail "q2: f01"
stat "$MNT/dir/f02" > /dev/null
pkill_pid=""
for p in "${PIDS[@]}"; do [ "$(cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' ')" = "squid -f $WORK/squid-Q2/squid.conf -N -d 0 " ] && pkill_pid=$p; done
[ -n "$pkill_pid" ] || fail "cannot find squid Q2's pid"
kill "$pkill_pid"; for _ in $(seq 50); do kill -0 "$pkill_pid" 2>/dev/null || break; sleep 0.1; done
if cat "$MNT/dir/f02" > /dev/null 2> "$WORK/q2.err"; then fail "read an uncached file through a dead proxy"; fi
grep -q "Input/output error" "$WORK/q2.err" || fail "dead proxy read: wanted EIO, got $(cat "$WORK/q2.err")"
cmp -s "$SRC/dir/f01" "$MNT/dir/f01" || fail "a cached file stopped reading after the proxy died"
unmount_repo "$MNT"
pass "only proxy dies after mount: uncached read gives EIO, cached file still reads"

# 4. CVMFS_FALLBACK_PROXY after a dead regular proxy; DIRECT in the regular list is dropped.
try_mount fallback "$GOOD_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$DEAD;DIRECT" \
    "CVMFS_FALLBACK_PROXY=http://127.0.0.1:$SQUID_PORT_Q"
check_all "$MNT"
[ "$(xattr "$MNT" proxy)" = "http://127.0.0.1:$SQUID_PORT_Q" ] || fail "fallback: user.proxy is $(xattr "$MNT" proxy)"
unmount_repo "$MNT"
pass "CVMFS_FALLBACK_PROXY used after the dead regular proxy (DIRECT dropped from the regular list)"

# 5. Refused configurations.
refuse() {  # refuse NAME PATTERN EXTRA...
    local name=$1 pattern=$2
    shift 2
    write_config "$WORK/$name.conf" "$FQRN" "$GOOD_URL" "$KEY" "$WORK/cache-$name" "$@"
    mkdir -p "$WORK/cvmfs/$name"
    MOUNTS+=("$WORK/cvmfs/$name")
    if "$BIN" mount "$FQRN" "$WORK/cvmfs/$name" -o "config=$WORK/$name.conf" 2> "$WORK/$name.err"; then
        fail "$name: mounted"
    fi
    grep -qi -- "$pattern" "$WORK/$name.err" || fail "$name: unclear message: $(cat "$WORK/$name.err")"
    pass "$name refused: $(head -c 200 "$WORK/$name.err" | tr '\n' ' ')"
}
refuse auto "proxy auto-discovery found no proxy" "CVMFS_HTTP_PROXY=auto" "CVMFS_PAC_URLS=http://127.0.0.1:$(dead_port)/wpad.dat"
refuse auto-group "'auto' (proxy auto-discovery) must be a group of its own" "CVMFS_HTTP_PROXY=auto|http://127.0.0.1:$SQUID_PORT_Q;DIRECT"
refuse fallback-direct "DIRECT" "CVMFS_FALLBACK_PROXY=DIRECT"
