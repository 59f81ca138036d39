#!/bin/bash
# A 100 MB chunked file reads correctly through a 50 MB cache quota, and the
# cache never grows past it; 16 concurrent readers of distinct files all get
# the right bytes.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
mkdir -p "$SRC/many"
head -c 100000000 /dev/urandom > "$SRC/big.bin"
for i in $(seq 1 16); do head -c $((3000000 + i * 1000)) /dev/urandom > "$SRC/many/file$i"; done
mkdir -p "$WORK/www/cvmfs"
"$BIN" publish "$SRC" "$WORK/www/cvmfs/quota.test.local" --name quota.test.local --keys "$WORK/keys" \
    --chunk-min 2097152 --chunk-avg 4194304 --chunk-max 8388608 > /dev/null
start_nginx A "$WORK/www"
QUOTA_MB=50 write_config "$WORK/q.conf" quota.test.local "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" \
    "$WORK/keys/quota.test.local.pub" "$WORK/cache"
MNT="$WORK/cvmfs/quota.test.local"
mount_repo quota.test.local "$MNT" "$WORK/q.conf"

max=0
sha256sum "$MNT/big.bin" > "$WORK/read.sum" &
reader=$!
while kill -0 $reader 2>/dev/null; do
    used=$(cache_bytes "$WORK/cache/quota.test.local"); [ "$used" -gt "$max" ] && max=$used
    sleep 0.05
done
wait $reader
[ "$(cut -d' ' -f1 < "$WORK/read.sum")" = "$(sha256sum < "$SRC/big.bin" | cut -d' ' -f1)" ] || fail "SHA-256 of the 100 MB file"
limit=$((50 * 1024 * 1024))
[ "$max" -le "$limit" ] || fail "cache reached $max bytes, over the 50 MiB quota"
[ "$(cache_bytes "$WORK/cache/quota.test.local")" -le "$limit" ] || fail "cache over quota after the read"
pass "100 MB chunked file read right under a 50 MB quota (cache peaked at $((max / 1048576)) MiB)"

pids=()
for i in $(seq 1 16); do
    ( cmp -s "$MNT/many/file$i" "$SRC/many/file$i" && echo ok > "$WORK/r$i" ) &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for i in $(seq 1 16); do [ -f "$WORK/r$i" ] || fail "concurrent reader $i got wrong bytes"; done
pass "16 concurrent readers of distinct files got the right bytes"
unmount_repo "$MNT"
