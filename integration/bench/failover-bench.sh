#!/bin/bash
# Figures for the README (release build): failover time with a stopped and with a hanging first
# host, and throughput for a 100 MB file direct, through a cold squid and a warm squid.
# Usage: CVMFS_SWIFT_BIN=$(swift build -c release --show-bin-path)/cvmfs-swift integration/bench/failover-bench.sh
source "$(dirname "$0")/../lib.sh"
trap cleanup EXIT

FQRN=bench.test.local
TIMEOUT=${TIMEOUT:-3}
SRC="$WORK/src"
mkdir -p "$SRC/small"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$SRC/big"
for i in $(seq -w 1 20); do head -c 50000 /dev/urandom > "$SRC/small/f$i"; done
REPO="$WORK/www/cvmfs/$FQRN"
"$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx GOOD "$WORK/www"
start_nginx FIRST "$WORK/www"
first_nginx=${PIDS[-1]}
start_fault_server F "$WORK/www"
start_squid Q
GOOD_URL="http://127.0.0.1:$NGINX_PORT_GOOD/cvmfs/@fqrn@"
KEY="$WORK/keys/$FQRN.pub"
n=0
mnt() {  # mnt SERVER_URL EXTRA...: fresh cache; sets MNT
    n=$((n + 1)); MNT="$WORK/cvmfs/m$n"
    local url=$1; shift
    write_config "$WORK/m$n.conf" "$FQRN" "$url" "$KEY" "$WORK/cache$n" \
        CVMFS_TIMEOUT=$TIMEOUT CVMFS_TIMEOUT_DIRECT=$TIMEOUT "$@"
    mount_repo "$FQRN" "$MNT" "$WORK/m$n.conf"
    for i in $(seq -w 1 20); do stat "$MNT/small/f$i" > /dev/null; done
}
secs() { python3 -c "print(f'{($(date +%s%N) - $1) / 1e9:.2f}')"; }
mbps() { python3 -c "print(f'{100 / (($(date +%s%N) - $1) / 1e9):.0f}')"; }

echo "failover (CVMFS_TIMEOUT_DIRECT=$TIMEOUT, CVMFS_MAX_RETRIES=${RETRIES:-1} default backoff):"
# Stopped first host (connection refused), stopped after the mount.
mnt "http://127.0.0.1:$NGINX_PORT_FIRST/cvmfs/@fqrn@;$GOOD_URL" CVMFS_MAX_RETRIES=${RETRIES:-1}
kill "$first_nginx"; wait "$first_nginx" 2>/dev/null || true
t=$(date +%s%N); cat "$MNT/small/f01" > /dev/null; a=$(secs "$t")
t=$(date +%s%N); cat "$MNT"/small/f1* > /dev/null; b=$(secs "$t")
echo "  stopped first host: first file ${a} s, next 10 files ${b} s"
unmount_repo "$MNT"
# Hanging first host.
for r in 0 1; do
    fault_mode "$FAULT_PORT_F" normal
    mnt "http://127.0.0.1:$FAULT_PORT_F/cvmfs/@fqrn@;$GOOD_URL" CVMFS_MAX_RETRIES=$r
    fault_mode "$FAULT_PORT_F" hang
    t=$(date +%s%N); cat "$MNT/small/f01" > /dev/null; a=$(secs "$t")
    t=$(date +%s%N); cat "$MNT"/small/f1* > /dev/null; b=$(secs "$t")
    echo "  hanging first host, CVMFS_MAX_RETRIES=$r: first file ${a} s, next 10 files ${b} s"
    unmount_repo "$MNT"
done

echo "throughput, 100 MB file, fresh client cache each time:"
mnt "$GOOD_URL"
t=$(date +%s%N); cat "$MNT/big" > /dev/null; echo "  direct:     $(mbps "$t") MB/s"
unmount_repo "$MNT"
for what in "cold squid" "warm squid"; do
    mnt "$GOOD_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$SQUID_PORT_Q"
    t=$(date +%s%N); cat "$MNT/big" > /dev/null; echo "  $what: $(mbps "$t") MB/s"
    unmount_repo "$MNT"
done
echo "  squid log: $(grep -c TCP_MISS "$SQUID_LOG_Q") misses, $(grep -c 'TCP_[A-Z_]*HIT' "$SQUID_LOG_Q") hits"
