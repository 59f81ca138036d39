#!/bin/bash
# Sequential read of one large chunked file from an empty cache at network latency (issue 9,
# "parallel chunk read-ahead at latency"): a 256 MiB file of random bytes, published with the
# default chunk sizes, served by nginx behind the latency proxy. For each RTT (0, 20, 100 ms):
# `cat` of the file from a fresh mount with an empty cache and the page cache dropped, with
# this build and, beside it in the same run, BASELINE_BIN if given, alternating, RUNS times
# (default 3). Prints the median MB/s and the requests of one read.
#   usage: CVMFS_SWIFT_BIN=.build/release/cvmfs-swift [BASELINE_BIN=...] integration/bench/readahead-bench.sh [RTT_MS...]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib.sh"
trap cleanup EXIT
RTTS=("$@")
[ ${#RTTS[@]} -gt 0 ] || RTTS=(0 20 100)
FQRN=readahead.bench.local
SIZE_MB=256
RUNS=${RUNS:-3}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mkdir -p "$WORK/src" "$WORK/www/cvmfs"
head -c $((SIZE_MB << 20)) /dev/urandom > "$WORK/src/big.bin"
"$BIN" publish "$WORK/src" "$WORK/www/cvmfs/$FQRN" --name $FQRN --keys "$WORK/keys" > /dev/null
chunks=$(find "$WORK/www/cvmfs/$FQRN/data" -name '*P' | wc -l)
echo "published $SIZE_MB MiB as $chunks chunks"
start_nginx A "$WORK/www"

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
MNT=$WORK/mnt
# cold_read BINARY URL: prints "MB/s requests"
cold_read() {
    local binary=$1 url=$2
    rm -rf "$WORK/cache"
    write_config "$WORK/client.conf" $FQRN "$url/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
    BIN=$binary mount_repo $FQRN "$MNT" "$WORK/client.conf"
    : > "$NGINX_LOG_A"
    drop_caches
    local t; t=$(date +%s%N)
    cat "$MNT/big.bin" > /dev/null
    local ms; ms=$(elapsed_ms "$t")
    unmount_repo "$MNT"
    awk -v ms="$ms" -v mb="$SIZE_MB" 'END { printf "%.0f %d\n", mb * 1.048576 * 1000 / ms, NR }' "$NGINX_LOG_A"
}

printf '%-8s %-12s %10s %10s\n' RTT build "MB/s" requests
for rtt in "${RTTS[@]}"; do
    start_latency_proxy P "$NGINX_PORT_A" "$rtt"
    url=http://127.0.0.1:$LATENCY_PORT_P
    builds=(current ${BASELINE_BIN:+baseline})
    declare -A rates=() requests=()
    for _ in $(seq "$RUNS"); do
        for build in "${builds[@]}"; do
            binary=$BIN; [ "$build" = baseline ] && binary=$BASELINE_BIN
            read -r rate count < <(cold_read "$binary" "$url")
            rates[$build]+="$rate "
            requests[$build]=$count
        done
    done
    for build in "${builds[@]}"; do
        printf '%-8s %-12s %10s %10s\n' "${rtt} ms" "$build" \
            "$(tr ' ' '\n' <<< "${rates[$build]}" | grep . | median)" "${requests[$build]}"
    done
    unset rates requests
    kill "$LATENCY_PID"; wait "$LATENCY_PID" 2>/dev/null || true
done
