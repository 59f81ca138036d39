#!/usr/bin/env bash
# Publish throughput of a release `cvmfs-swift publish` on a deterministic
# ~256 MB tree (integration/bench/README.md). Everything generated lives under
# $BENCH_DIR (default /tmp/cvmfs-bench), never in the repository.
#
#   integration/bench/publish-throughput.sh [runs=3]
#
# Environment: BENCH_DIR, THREADS (passed as --threads; 0 = all cores),
# SKIP_BUILD=1 to use the existing .build/release/cvmfs-swift, SKIP_GZIP=1.
set -euo pipefail

runs=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bench=${BENCH_DIR:-/tmp/cvmfs-bench}
tree=$bench/publish-tree
threads=${THREADS:-0}
mkdir -p "$bench"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    (cd "$repo" && swift build -c release --product cvmfs-swift >/dev/null)
fi
binary=$repo/.build/release/cvmfs-swift

if [[ ! -f $tree.complete ]]; then
    rm -rf "$tree"
    python3 "$here/make-tree.py" "$tree"
    touch "$tree.complete"
fi
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "tree: $tree, $(awk -v b="$bytes" 'BEGIN {printf "%.1f MB", b / 1e6}'), $(nproc) cores, threads=$threads"
# Read the tree once so every run starts with it in the page cache.
cat $(find "$tree" -type f) > /dev/null

# Prints "wall user sys" seconds of a command run under /usr/bin/time -v.
timed() {
    local log=$bench/time.log
    /usr/bin/time -v -o "$log" "$@" > /dev/null
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /User time/ { u = $2 } /System time/ { s = $2 }
        END { printf "%.2f %.2f %.2f\n", w, u, s }' "$log"
}

report() { # label wall user sys
    awk -v l="$1" -v w="$2" -v u="$3" -v s="$4" -v b="$bytes" 'BEGIN {
        printf "%-16s %6.2f s wall  %7.1f MB/s  user %6.2f s  sys %5.2f s  CPU %4.0f%% (of %d%%)\n",
            l, w, b / 1e6 / w, u, s, 100 * (u + s) / w, 100 * '"$(nproc)"' }'
}

walls=()
for ((i = 1; i <= runs; i++)); do
    out=$bench/publish-out
    rm -rf "$out"
    read -r wall user sys < <(timed "$binary" publish "$tree" "$out" --name bench.cvmfs.local \
        --keys "$bench/keys" --threads "$threads")
    report "publish run $i" "$wall" "$user" "$sys"
    walls+=("$wall")
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
awk -v w="$median" -v b="$bytes" -v r="$runs" 'BEGIN { printf "publish median of %d: %.2f s, %.1f MB/s\n", r, w, b / 1e6 / w }'
echo "stored: $(du -sm "$bench/publish-out/data" | cut -f1) MiB of objects"

if [[ "${SKIP_GZIP:-0}" != 1 ]]; then
    # Context, not a competitor: what one core of zlib level 6 costs on the same bytes.
    read -r wall user sys < <(timed sh -c "tar -C '$tree' -cf - . | gzip -6 > '$bench/tree.tar.gz'")
    report "tar | gzip -6" "$wall" "$user" "$sys"
    echo "gzip output: $(( $(stat -c %s "$bench/tree.tar.gz") / 1000000 )) MB"
    rm -f "$bench/tree.tar.gz"
fi
