#!/bin/bash
# Reads through squid (Debian package, private config): the first client's reads are misses in
# squid's access log, a second client with an empty cache gets hits, and both read correctly.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=squid.test.local
SRC="$WORK/src"
mkdir -p "$SRC"
for i in 1 2 3 4; do head -c $((200000 * i)) /dev/urandom > "$SRC/f$i"; done
REPO="$WORK/www/cvmfs/$FQRN"
"$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
start_squid Q
for c in 1 2; do
    write_config "$WORK/c$c.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache$c" \
        "CVMFS_HTTP_PROXY=http://127.0.0.1:$SQUID_PORT_Q"
    MNT="$WORK/cvmfs/c$c"
    mount_repo "$FQRN" "$MNT" "$WORK/c$c.conf"
    for i in 1 2 3 4; do cmp -s "$SRC/f$i" "$MNT/f$i" || fail "client $c: f$i differs"; done
    h=$(getfattr --absolute-names --only-values -n user.hash "$MNT/f4")
    unmount_repo "$MNT"
    # squid writes its access log line when a transfer ends; give it a moment.
    for _ in $(seq 20); do grep -q "data/${h:0:2}/${h:2}" "$SQUID_LOG_Q" && break; sleep 0.1; done
    line=$(grep "data/${h:0:2}/${h:2}" "$SQUID_LOG_Q" | tail -1)
    if [ $c = 1 ]; then
        [[ "$line" == *TCP_MISS/200* ]] || fail "first client: wanted TCP_MISS, squid logged: $line"
    else
        [[ "$line" == *TCP_*HIT/200* ]] || fail "second client: wanted a HIT, squid logged: $line"
    fi
    pass "client $c through squid: $(awk '{print $4}' <<< "$line") for f4's object"
done
grep -q "GET /cvmfs/$FQRN/data/${h:0:2}/${h:2} 200" "$NGINX_LOG_A" || fail "origin never asked"
[ "$(grep -c "GET /cvmfs/$FQRN/data/${h:0:2}/${h:2} " "$NGINX_LOG_A")" = 1 ] || fail "the origin served f4 twice; squid did not cache it"
pass "the origin served each object once; the second client was served from squid"
