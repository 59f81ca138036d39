#!/bin/bash
# Cold container start at network latency (issue 9), all in one run:
# the demo's Debian 12 image with python3 (debootstrap, cached like scripts/demo.sh) is
# published as coldstart.bench.local with the image at /rootfs (its own nested catalog),
# served by nginx behind the latency proxy (integration/latency_proxy.py, via lib.sh). For each RTT (0, 20, 100 ms):
# mount with an empty cache, page cache dropped, then `chroot MNT/rootfs python3 -c 'import ...'`:
#   - with the start-up profile recorded once on this image (`profile record`, `publish --profile`);
#   - the same revision with profiles off (CVMFS_SWIFT_PROFILES=no);
#   - the baseline binary (BASELINE_BIN, e.g. the last release) on the same revision, if given;
#   - the whole image downloaded as one .tar.gz through the same proxy and unpacked first;
#   - 8 concurrent starts on one mount, profiles off (compared with one start).
# Prints seconds, requests, MiB fetched and the most requests the server saw arrive within one RTT.
#   usage: CVMFS_SWIFT_BIN=.build/release/cvmfs-swift [BASELINE_BIN=...] integration/bench/coldstart-bench.sh [RTT_MS...]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib.sh"
source "$HERE/lib-containers.sh"   # lib.sh set HERE to integration/
trap cleanup EXIT
RTTS=("$@")
[ ${#RTTS[@]} -gt 0 ] || RTTS=(0 20 100)
PY='import argparse, ast, csv, datetime, email.parser, inspect, logging, pathlib, platform, random, socket, ssl, subprocess, tempfile, typing, configparser, hashlib; print("ok")'
FQRN=coldstart.bench.local

TREE=$(ctr_python_tree)
echo "image: $TREE ($(du -sb --exclude=./.done "$TREE" | awk '{printf "%.1f MiB", $1/1048576}'), $(find "$TREE" | wc -l) entries)"
mkdir -p "$WORK/src" "$WORK/www/cvmfs"
cp -a "$TREE" "$WORK/src/rootfs"
rm -f "$WORK/src/rootfs/.done"
touch "$WORK/src/rootfs/.cvmfscatalog"
REPO=$WORK/www/cvmfs/$FQRN
"$BIN" publish "$WORK/src" "$REPO" --name $FQRN --keys "$WORK/keys" > /dev/null
tar -C "$WORK/src/rootfs" -czf "$WORK/www/image.tar.gz" .

# nginx logs the request's start time and duration, to count requests in flight.
start_nginx A "$WORK/www"
sed -i 's|log_format plain .*|log_format plain '"'"'$request_method $uri $status $body_bytes_sent $msec $request_time'"'"';|' "$WORK/nginx-A/nginx.conf"
kill -HUP "$(cat "$WORK/nginx-A/nginx.pid")"; sleep 0.3

PROXY_PID=""
start_proxy() {  # start_proxy RTT_MS: the latency proxy in front of nginx; sets URL and RTT
    [ -n "$PROXY_PID" ] && { kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; }
    start_latency_proxy P "$NGINX_PORT_A" "$1"
    PROXY_PID=$LATENCY_PID
    URL=http://127.0.0.1:$LATENCY_PORT_P
    RTT=$1
}
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
MNT=$WORK/mnt
# cold_start BINARY CONFIG-EXTRA...: mount from an empty cache, run the start once; prints
# "seconds requests bytes max-in-flight"
cold_start() {
    local binary=$1; shift
    rm -rf "$WORK/cache"
    write_config "$WORK/client.conf" $FQRN "$URL/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache" "$@"
    : > "$NGINX_LOG_A"
    drop_caches
    local t; t=$(date +%s%N)
    BIN=$binary mount_repo $FQRN "$MNT" "$WORK/client.conf"
    chroot "$MNT/rootfs" python3 -c "$PY" > /dev/null
    local ms; ms=$(elapsed_ms "$t")
    sleep 0.2
    unmount_repo "$MNT"
    # nginx sees the requests one proxy delay late but on time relative to each other: the
    # most that arrived within one round trip is how many the client had in flight.
    awk -v ms="$ms" -v rtt="$RTT" '{ n++; b += $4; a[n] = $5 - $6 }
        END { m = 0; if (rtt > 0) for (i = 1; i <= n; i++) { c = 0; for (j = 1; j <= n; j++) if (a[j] >= a[i] && a[j] < a[i] + rtt / 1000) c++; if (c > m) m = c }
              printf "%.2f %d %.1f %s\n", ms / 1000, n, b / 1048576, (rtt > 0 ? m : "-") }' "$NGINX_LOG_A"
}

echo "== recording the start-up profile (0 ms)"
start_proxy 0
write_config "$WORK/client.conf" $FQRN "$URL/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache-record"
mount_repo $FQRN "$MNT" "$WORK/client.conf"
"$BIN" profile record "$MNT/rootfs" --output "$WORK/python.profile" --seconds 60 &
REC=$!
sleep 0.5
chroot "$MNT/rootfs" python3 -c "$PY" > /dev/null
kill -INT $REC; wait $REC
unmount_repo "$MNT"
echo "   $(grep -vc '^#' "$WORK/python.profile") items"
"$BIN" publish "$WORK/src" "$REPO" --name $FQRN --keys "$WORK/keys" --profile /rootfs="$WORK/python.profile" > /dev/null
READ_MB=$(cold_start "$BIN" CVMFS_SWIFT_PROFILES=no | awk '{ print $3 }')

printf '\n%-34s %6s %10s %9s %9s %10s\n' "cold start" "RTT" "seconds" "requests" "MiB" "per RTT"
for rtt in "${RTTS[@]}"; do
    start_proxy "$rtt"
    row() { printf '%-34s %4s ms %10s %9s %9s %10s\n' "$1" "$rtt" $2 $3 $4 $5; }
    row "cvmfs-swift, profile" $(cold_start "$BIN")
    row "cvmfs-swift, profiles off" $(cold_start "$BIN" CVMFS_SWIFT_PROFILES=no)
    if [ -n "${BASELINE_BIN:-}" ]; then row "baseline binary" $(cold_start "$BASELINE_BIN"); fi
    rm -rf "$WORK/unpacked"; mkdir -p "$WORK/unpacked"; drop_caches
    t=$(date +%s%N)
    curl -s "$URL/image.tar.gz" | tar -C "$WORK/unpacked" -xzf -
    chroot "$WORK/unpacked" python3 -c "$PY" > /dev/null
    row "whole image downloaded + unpacked" "$(awk -v ms="$(elapsed_ms "$t")" 'BEGIN { printf "%.2f", ms / 1000 }')" 1 \
        "$(du -b "$WORK/www/image.tar.gz" | awk '{ printf "%.1f", $1 / 1048576 }')" 1
    # 8 concurrent readers on one mount, profiles off
    rm -rf "$WORK/cache"
    write_config "$WORK/client.conf" $FQRN "$URL/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache" CVMFS_SWIFT_PROFILES=no
    mount_repo $FQRN "$MNT" "$WORK/client.conf"
    drop_caches
    t=$(date +%s%N)
    readers=()
    for _ in 1 2 3 4 5 6 7 8; do chroot "$MNT/rootfs" python3 -c "$PY" > /dev/null & readers+=($!); done
    wait "${readers[@]}"
    row "8 concurrent starts, profiles off" "$(awk -v ms="$(elapsed_ms "$t")" 'BEGIN { printf "%.2f", ms / 1000 }')" - - -
    unmount_repo "$MNT"
done
echo
echo "bytes the start reads (profiles off, 0 ms run): $READ_MB MiB"
