#!/usr/bin/env bash
# Stratum 1 replication throughput (README "Benchmarks"): `cvmfs-swift snapshot` of a 100k-file
# repository from nginx on loopback and through the latency proxy at RTT_MS (default 20), beside
# serial fetching of the same objects with one keep-alive `wget -i` (what `wget --mirror` does);
# then an incremental snapshot after 1 % of the files changed.
#
#   integration/bench/snapshot-bench.sh [files=100000]
#
# Environment: BENCH_DIR (default /tmp/cvmfs-bench), RTT_MS, THREADS (snapshot --threads, 32),
# SERIAL_SAMPLE (objects the serial baseline fetches at RTT_MS; the full run would take hours).
set -euo pipefail
files=${1:-100000}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
trap cleanup EXIT
rtt=${RTT_MS:-20}
threads=${THREADS:-32}
sample=${SERIAL_SAMPLE:-2000}
bench=${BENCH_DIR:-/tmp/cvmfs-bench}
FQRN=snapbench.test.local
src=$bench/snapshot-tree-$files
mkdir -p "$bench"

if [[ ! -f $src.complete ]]; then
    rm -rf "$src"
    python3 - "$src" "$files" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
per_dir = 1000
for d in range((count + per_dir - 1) // per_dir):
    directory = os.path.join(root, "pkg%03d" % d)
    os.makedirs(directory)
    open(os.path.join(directory, ".cvmfscatalog"), "w").close()
    for i in range(min(per_dir, count - d * per_dir)):
        with open(os.path.join(directory, "f%04d" % i), "wb") as f:
            f.write(rng.randbytes(rng.randint(200, 3000)))
PY
    touch "$src.complete"
fi
S0="$WORK/s0/cvmfs/$FQRN"
"$BIN" publish "$src" "$S0" --name "$FQRN" --keys "$WORK/keys" > /dev/null
KEY="$WORK/keys/$FQRN.pub"
start_nginx S0 "$WORK/s0"
start_latency_proxy L "$NGINX_PORT_S0" "$rtt"
objects=$(find "$S0/data" -type f ! -path '*/txn/*' | wc -l)
mb=$(find "$S0/data" -type f ! -path '*/txn/*' -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1e6}')
echo "repository: $files files, $objects objects, $mb MB in data/"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v b="$2" -v t="$3" 'BEGIN { printf "%.1f s, %.0f objects/s, %.1f MB/s", t, n / t, b / 1e6 / t }'; }
run_snapshot() {  # run_snapshot LABEL PORT DIR
    local t0 t1 bytes
    t0=$(now)
    "$BIN" snapshot "http://127.0.0.1:$2/cvmfs/$FQRN" "$3" --key "$KEY" --quiet --threads "$threads"
    t1=$(now)
    bytes=$(find "$3/data" -type f ! -path '*/txn/*' -printf '%s\n' | awk '{s += $1} END {print s}')
    echo "snapshot $1 (--threads $threads): $(rate "$objects" "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")"
}
run_serial() {  # run_serial LABEL PORT COUNT
    local t0 t1 list="$WORK/urls.$2" out="$WORK/wget.$2"
    (cd "$S0" && find data -type f ! -path '*/txn/*' | awk -v n="$3" -v p="http://127.0.0.1:$2/cvmfs/$FQRN/" 'NR <= n { print p $0 }') > "$list"  # awk reads to the end: head would SIGPIPE find
    rm -rf "$out"; mkdir -p "$out"
    t0=$(now)
    wget -q -x -nH -P "$out" -i "$list"
    t1=$(now)
    local bytes
    bytes=$(find "$out" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
    echo "serial wget -i $1 ($3 objects): $(rate "$3" "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")"
}

run_snapshot "loopback" "$NGINX_PORT_S0" "$WORK/s1-loop/$FQRN"
run_serial "loopback" "$NGINX_PORT_S0" "$objects"
run_snapshot "at $rtt ms RTT" "$LATENCY_PORT_L" "$WORK/s1-wan/$FQRN"
run_serial "at $rtt ms RTT" "$LATENCY_PORT_L" "$sample"

# 1 % of the files change: new content, republished, snapshot again at RTT_MS.
python3 - "$src" "$files" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
for n in rng.sample(range(count), count // 100):
    with open(os.path.join(root, "pkg%03d" % (n // 1000), "f%04d" % (n % 1000)), "wb") as f:
        f.write(rng.randbytes(rng.randint(200, 3000)))
PY
rm "$src.complete"  # the tree is no longer the deterministic one
"$BIN" publish "$src" "$S0" --name "$FQRN" --keys "$WORK/keys" > /dev/null
base=$(awk '{s += $4} END {print s + 0}' "$NGINX_LOG_S0")
t0=$(now)
"$BIN" snapshot "http://127.0.0.1:$LATENCY_PORT_L/cvmfs/$FQRN" "$WORK/s1-wan/$FQRN" --key "$KEY" --threads "$threads"
t1=$(now)
sleep 0.5
after=$(awk '{s += $4} END {print s + 0}' "$NGINX_LOG_S0")
echo "incremental snapshot after 1 % changed, at $rtt ms RTT: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s, $(( (after - base) / 1000 )) kB served by the stratum 0"
