#!/bin/bash
# Start-up profiles (docs/profiles.md) end to end, nginx behind the latency proxy at 40 ms RTT:
# `profile record` on a mount, `publish --profile`, then from an empty cache the profile's
# objects arrive many per round trip and every file reads right; a corrupt object named by the
# profile fails only its own read; a profile larger than the quota never overfills the cache;
# CVMFS_SWIFT_PROFILES=no and a shared cache.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
FQRN=profiles.test.local
RTT=40

SRC=$WORK/src
mkdir -p "$SRC/app/lib" "$SRC/other"
for i in $(seq -w 1 150); do head -c $((2000 + 10#$i * 150)) /dev/urandom > "$SRC/app/lib/mod$i.py"; done
head -c 12000000 /dev/urandom > "$SRC/app/big.so"
head -c 50000 /dev/urandom > "$SRC/other/unprofiled"
touch "$SRC/app/.cvmfscatalog"
REPO=$WORK/www/cvmfs/$FQRN
mkdir -p "$WORK/www/cvmfs"
publish() { "$BIN" publish "$SRC" "$REPO" --name $FQRN --keys "$WORK/keys" \
    --chunk-min 1048576 --chunk-avg 2097152 --chunk-max 4194304 "$@" > /dev/null; }
publish
start_nginx A "$WORK/www"
sed -i 's|log_format plain .*|log_format plain '"'"'$request_method $uri $status $body_bytes_sent $msec $request_time'"'"';|' "$WORK/nginx-A/nginx.conf"
kill -HUP "$(cat "$WORK/nginx-A/nginx.pid")"; sleep 0.3
start_latency_proxy L "$NGINX_PORT_A" $RTT
URL="http://127.0.0.1:$LATENCY_PORT_L/cvmfs/@fqrn@"
MNT=$WORK/mnt

# the start: every module in order, and the first 3 MB of the big library
start_app() {
    for f in "$1"/app/lib/mod*.py; do cat "$f"; done > "$WORK/start.out"
    head -c 3000000 "$1/app/big.so" >> "$WORK/start.out"
}
start_app "$SRC"; cp "$WORK/start.out" "$WORK/start.expected"
talk() { "$BIN" talk -p "$(getfattr --absolute-names --only-values -n user.talk_socket "$MNT")" "$@"; }
info() { talk profile info | sed -n "s/^profiles\.$1: //p"; }
# most requests nginx saw arrive within one round trip
per_rtt() {
    awk -v rtt=$RTT '{ n++; a[n] = $5 - $6 } END { m = 0; for (i = 1; i <= n; i++) { c = 0
        for (j = 1; j <= n; j++) if (a[j] >= a[i] && a[j] < a[i] + rtt / 1000) c++; if (c > m) m = c }; print m }' "$NGINX_LOG_A"
}

# --- record
write_config "$WORK/c.conf" $FQRN "$URL" "$WORK/keys/$FQRN.pub" "$WORK/cache-record"
mount_repo $FQRN "$MNT" "$WORK/c.conf"
"$BIN" profile record "$MNT/app" --output "$WORK/app.profile" --seconds 120 2> "$WORK/record.err" &
rec=$!
sleep 0.5
start_app "$MNT"
cat "$MNT/other/unprofiled" > /dev/null
kill -TERM $rec; wait $rec || fail "profile record exited non-zero: $(cat "$WORK/record.err")"
head -n1 "$WORK/app.profile" | grep -qx '# cvmfs-swift start-up profile 1' || fail "profile header: $(head -n1 "$WORK/app.profile")"
[ "$(grep -c '^lib/mod' "$WORK/app.profile")" -eq 150 ] || fail "the profile lists $(grep -c '^lib/mod' "$WORK/app.profile") of 150 modules"
[ "$(sed -n 2p "$WORK/app.profile")" = lib/mod001.py ] || fail "first item is $(sed -n 2p "$WORK/app.profile"), not lib/mod001.py"
chunks=$(grep -c "^big.so	[0-9]" "$WORK/app.profile" || true)
[ "$chunks" -ge 1 ] && [ "$chunks" -le 3 ] || fail "the profile names $chunks chunks of big.so (3 MB of 12 read)"
! grep -q unprofiled "$WORK/app.profile" || fail "a file outside the recorded directory is in the profile"
unmount_repo "$MNT"
pass "profile record: $(grep -vc '^#' "$WORK/app.profile") items in first-open order, only below the directory, chunks by offset"

# a second start that reads all of big.so: its profile (14 MB) is larger than the quota test's cache
write_config "$WORK/c.conf" $FQRN "$URL" "$WORK/keys/$FQRN.pub" "$WORK/cache-record2"
mount_repo $FQRN "$MNT" "$WORK/c.conf"
"$BIN" profile record "$MNT/app" --output "$WORK/full.profile" --seconds 120 2> "$WORK/record.err" &
rec=$!
sleep 0.5
start_app "$MNT"; cat "$MNT/app/big.so" > /dev/null
kill -TERM $rec; wait $rec || fail "profile record exited non-zero: $(cat "$WORK/record.err")"
[ "$(grep -c "^big.so	[0-9]" "$WORK/full.profile")" -ge 3 ] || fail "a whole read of big.so recorded $(grep -c "^big.so	" "$WORK/full.profile") chunks"
unmount_repo "$MNT"

# --- publish, and a cold start with the profile
publish --profile app="$WORK/app.profile"
cold_mount() {
    rm -rf "$WORK/cache"
    write_config "$WORK/c.conf" $FQRN "$URL" "$WORK/keys/$FQRN.pub" "$WORK/cache" "$@"
    mount_repo $FQRN "$MNT" "$WORK/c.conf"
    : > "$NGINX_LOG_A"
}
cold_mount
cmp -s "$MNT/app/.cvmfsprofile" "$WORK/app.profile" || fail "the published .cvmfsprofile differs from the recorded profile"
start_app "$MNT"
cmp -s "$WORK/start.out" "$WORK/start.expected" || fail "wrong bytes read with a profile"
overlap=$(per_rtt)
[ "$overlap" -ge 8 ] || fail "with a profile at most $overlap requests arrived within one round trip"
[ "$(info hits)" -ge 100 ] || fail "profile hits: $(info hits)"
shown=$("$BIN" stat -v "$MNT" | sed -n 's/^Start-up Profiles: //p')
[[ "$shown" == "1 run(s), $(info fetched_objects) objects ($(( $(info fetched_bytes) / 1024 ))k) fetched ahead, $(info hits) read "* ]] \
    || fail "stat -v shows '$shown' beside $(talk profile info)"
fetched=$(awk '{ b += $4 } END { print b }' "$NGINX_LOG_A")
unmount_repo "$MNT"
pass "cold start with the profile: right bytes, up to $overlap requests per round trip, $(( fetched / 1024 )) KiB fetched"

# --- profiles off: one request per round trip, same bytes
cold_mount CVMFS_SWIFT_PROFILES=no
start_app "$MNT"
cmp -s "$WORK/start.out" "$WORK/start.expected" || fail "wrong bytes read with profiles off"
talk profile info | grep -q "profiles: off" || fail "talk profile info with profiles off: $(talk profile info)"
"$BIN" stat -v "$MNT" | grep -qx "Start-up Profiles: off (CVMFS_SWIFT_PROFILES=no)" || fail "stat -v with profiles off"
off=$(per_rtt)
# What may still overlap is the chunk read-ahead of the one chunked file: at 40 ms it keeps
# 3 + ceil(40 / 25) = 5 chunks in flight (ChunkPrefetcher.depth), beside the reader's own request.
[ "$off" -le 6 ] || fail "with profiles off $off requests arrived within one round trip (expected serial reads and chunk read-ahead only)"
unmount_repo "$MNT"
pass "CVMFS_SWIFT_PROFILES=no: no profile fetch ahead (at most $off requests per round trip), right bytes"

# --- a corrupt object named by the profile fails only its own read
cold_mount
victim=$(getfattr --absolute-names --only-values -n user.hash "$MNT/app/lib/mod050.py")
object=$REPO/data/${victim:0:2}/${victim:2}
cp "$object" "$WORK/object.good"
printf 'garbage, not the object' > "$object"
errors=0
for f in "$SRC"/app/lib/mod*.py; do
    name=${f#"$SRC/"}
    if [ "$name" = app/lib/mod050.py ]; then
        if cat "$MNT/$name" > /dev/null 2> "$WORK/eio.err"; then fail "the corrupt object was served"; fi
        grep -q "Input/output error" "$WORK/eio.err" || fail "corrupt object: $(cat "$WORK/eio.err")"
    else
        cmp -s "$MNT/$name" "$f" || errors=$((errors + 1))
    fi
done
[ "$errors" -eq 0 ] || fail "$errors other files read wrong beside a corrupt one"
cp "$WORK/object.good" "$object"
unmount_repo "$MNT"
pass "a corrupt object named by the profile: EIO for that file only, the other 149 read right"

# --- a shared cache
rm -rf "$WORK/cache"
write_config "$WORK/c.conf" $FQRN "$URL" "$WORK/keys/$FQRN.pub" "$WORK/cache" CVMFS_SHARED_CACHE=yes
mount_repo $FQRN "$MNT" "$WORK/c.conf"
: > "$NGINX_LOG_A"
start_app "$MNT"
cmp -s "$WORK/start.out" "$WORK/start.expected" || fail "wrong bytes with a shared cache"
shared=$(per_rtt)
[ "$shared" -ge 8 ] || fail "shared cache: at most $shared requests per round trip"
unmount_repo "$MNT"
pass "shared cache: the profile fetches ahead too (up to $shared requests per round trip), right bytes"

# --- a profile larger than the quota: the cache never passes it, reads stay right
# (8 MB: an object may take half the quota, and big.so's chunks reach 4 MB)
publish --profile app="$WORK/full.profile"
QUOTA_MB=8 cold_mount
limit=$((8 * 1024 * 1024)); max=0
ls "$MNT/app" > /dev/null
for _ in $(seq 30); do
    used=$(cache_bytes "$WORK/cache/$FQRN"); [ "$used" -gt "$max" ] && max=$used
    sleep 0.1
done
[ "$max" -le "$limit" ] || fail "the cache reached $max bytes, over the 8 MiB quota"
[ "$(info stopped_by_quota)" -ge 1 ] || fail "the profile run did not stop at the quota: $(talk profile info)"
start_app "$MNT"
cmp -s "$WORK/start.out" "$WORK/start.expected" || fail "wrong bytes under a small quota"
[ "$(cache_bytes "$WORK/cache/$FQRN")" -le "$limit" ] || fail "cache over quota after the start"
unmount_repo "$MNT"
pass "profile larger than the quota: cache peaked at $((max / 1024)) KiB of 8 MiB, the run stopped, reads right"

