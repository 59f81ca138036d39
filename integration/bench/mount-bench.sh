#!/bin/bash
# Mount benchmark: each figure of the mounted repository beside the same
# operation on the source folder, in the same run (absolute times drift by
# 30 % on shared machines, ratios much less). Median of RUNS runs (default 3).
#
#   CVMFS_SWIFT_BIN=$(swift build -c release --show-bin-path)/cvmfs-swift \
#       integration/bench/mount-bench.sh
#
# Needs root (drop_caches), FUSE, nginx. The source trees are generated once
# under /tmp/cvmfs-swift-bench (kept between runs; delete it to regenerate):
#   tree/  100 directories x 1000 small files (100,100 entries with the dirs)
#   data/  one 256 MiB file of random bytes
# Absolute figures depend on the machine's load (check `uptime`); compare the ratios.
# Everything else (repositories, nginx, mounts, caches) lives in a temporary
# folder that the EXIT trap removes after unmounting and stopping what it started.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib.sh"
trap cleanup EXIT

RUNS=${RUNS:-3}
SRCROOT=${BENCH_SRC:-/tmp/cvmfs-swift-bench}
TREE="$SRCROOT/tree"
DATA="$SRCROOT/data"

now_ns() { date +%s%N; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "-" }'; }

# --- source trees -----------------------------------------------------------
if [ ! -f "$TREE/.complete" ]; then
    echo "generating $TREE (100 x 1000 files)" >&2
    rm -rf "$TREE"
    python3 - "$TREE" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    path = os.path.join(root, f"dir{d:03d}")
    os.makedirs(path)
    for f in range(1000):
        with open(os.path.join(path, f"file{f:04d}.txt"), "w") as out:
            out.write(f"{d}/{f} " * (1 + (f % 17)) + "\n")
PY
    touch "$TREE/.complete"
fi
if [ ! -f "$DATA/.complete" ]; then
    echo "generating $DATA (256 MiB random file)" >&2
    rm -rf "$DATA"; mkdir -p "$DATA"
    head -c $((256 << 20)) /dev/urandom > "$DATA/random.bin"
    touch "$DATA/.complete"
fi

# --- repositories, web server -------------------------------------------------
mkdir -p "$WORK/www/cvmfs"
start_nginx A "$WORK/www"
URL="http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@"
t0=$(now_ns)
"$BIN" publish "$TREE" "$WORK/www/cvmfs/tree.bench.local" --name tree.bench.local --keys "$WORK/keys" > /dev/null
"$BIN" publish "$DATA" "$WORK/www/cvmfs/data.bench.local" --name data.bench.local --keys "$WORK/keys" > /dev/null
echo "published both repositories in $(( ($(now_ns) - t0) / 1000000 )) ms" >&2
ENTRIES=$(find "$TREE" -printf '%s\n' | wc -l)

# mount_fresh FQRN MOUNTPOINT CACHE: mounts with the given cache folder.
mount_fresh() {
    local fqrn=$1 mnt=$2 cache=$3
    write_config "$WORK/$fqrn.conf" "$fqrn" "$URL" "$WORK/keys/$fqrn.pub" "$cache"
    mount_repo "$fqrn" "$mnt" "$WORK/$fqrn.conf"
}
client_pid() { getfattr --absolute-names --only-values -n user.pid "$1"; }

# timed_walk DIR: entries per second of `find DIR -printf '%s'`.
timed_walk() {
    local t0 t1 n
    t0=$(now_ns); n=$(find "$1" -printf '%s\n' | wc -l); t1=$(now_ns)
    awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n / (ns / 1e9) }'
}
# timed_read FILE: MB/s (10^6 bytes) of reading FILE sequentially with 1 MiB reads.
timed_read() {
    local t0 t1 size
    size=$(stat -c %s "$1")
    t0=$(now_ns); dd if="$1" of=/dev/null bs=1M status=none; t1=$(now_ns)
    awk -v s="$size" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", s / 1e6 / (ns / 1e9) }'
}

declare -A FIG
add() { FIG[$1]+="$2 "; }

for run in $(seq "$RUNS"); do
    echo "run $run/$RUNS" >&2
    # Tree: warm disk cache (one walk fills it), then kernel-cold and kernel-hot walks.
    cache="$WORK/cache-tree-$run"
    mnt="$WORK/mnt/tree-$run"
    mount_fresh tree.bench.local "$mnt" "$cache"
    find "$mnt" -printf '%s\n' > /dev/null
    drop_caches; add walk_cold_src "$(timed_walk "$TREE")"
    drop_caches; add walk_cold_mnt "$(timed_walk "$mnt")"
    add walk_hot_src "$(timed_walk "$TREE")"
    add walk_hot_mnt "$(timed_walk "$mnt")"
    add rss_kib "$(awk '/VmRSS/ {print $2}' "/proc/$(client_pid "$mnt")/status")"
    unmount_repo "$mnt"

    # Mount to first byte, empty cache: the tree repository (a 100k-entry,
    # 16 MB root catalog) and the data repository (the 16 MiB first chunk of
    # the big file). Timed: the mount command (it returns once the mount is
    # live) and `head -c 1`; the configuration is written before. First with
    # every page cache dropped (the client's binary and libraries are read
    # from disk, as on a node's first mount after boot), then again at once
    # (binary in memory, as for any later mount). The server's files are in
    # memory both times, as for the reads below: this times the client.
    for repo in tree data; do
        file=$([ $repo = tree ] && echo dir000/file0000.txt || echo random.bin)
        for state in cold warm; do
            cache="$WORK/cache-first-$repo-$state-$run"
            mnt="$WORK/mnt/first-$repo-$state-$run"
            write_config "$WORK/$repo.first.conf" $repo.bench.local "$URL" "$WORK/keys/$repo.bench.local.pub" "$cache"
            mkdir -p "$mnt"
            MOUNTS+=("$mnt")
            [ $state = cold ] && drop_caches
            cat "$WORK/www/cvmfs/$repo.bench.local"/.cvmfs* > /dev/null
            find "$WORK/www/cvmfs/$repo.bench.local/data" -type f -size +64k -exec cat {} + > /dev/null
            t0=$(now_ns)
            "$BIN" mount $repo.bench.local "$mnt" -o "config=$WORK/$repo.first.conf"
            head -c 1 "$mnt/$file" > /dev/null
            add "first_${repo}_$state" $(( ($(now_ns) - t0) / 1000000 ))
            PIDS+=("$(client_pid "$mnt")")
            unmount_repo "$mnt"
        done
    done

    # Big file: empty disk cache (download, verify, inflate), then warm
    # (in disk cache, page cache dropped, remounted so the kernel cache is cold).
    cache="$WORK/cache-data-$run"
    mnt="$WORK/mnt/data-$run"
    mount_fresh data.bench.local "$mnt" "$cache"
    drop_caches; add read_src_cold "$(timed_read "$DATA/random.bin")"
    # The server's side of the loopback is in memory: this measures the
    # client (download, verify, inflate, cache write), not nginx's disk.
    cat "$WORK"/www/cvmfs/data.bench.local/data/*/* > /dev/null
    add read_empty_mnt "$(timed_read "$mnt/random.bin")"
    unmount_repo "$mnt"
    mount_fresh data.bench.local "$mnt" "$cache"
    drop_caches; add read_warm_src "$(timed_read "$DATA/random.bin")"
    drop_caches; add read_warm_mnt "$(timed_read "$mnt/random.bin")"
    unmount_repo "$mnt"
    rm -rf "$WORK"/cache-*-"$run"
done

m() { echo "${FIG[$1]}" | tr ' ' '\n' | grep . | median; }
echo
echo "cvmfs-swift mount benchmark: median of $RUNS runs ($ENTRIES entries; 256 MiB random file)"
printf '%-44s %12s %12s %8s\n' figure mount source ratio
row() { printf '%-44s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
row "walk, kernel caches cold (entries/s)" "$(m walk_cold_mnt)" "$(m walk_cold_src)"
row "walk, kernel caches hot (entries/s)" "$(m walk_hot_mnt)" "$(m walk_hot_src)"
row "read 256 MiB, empty cache (MB/s)" "$(m read_empty_mnt)" "$(m read_src_cold)"
row "read 256 MiB, warm, page cache cold (MB/s)" "$(m read_warm_mnt)" "$(m read_warm_src)"
printf '%-44s %12s\n' "mount to first byte, tree repo (ms), cold" "$(m first_tree_cold)"
printf '%-44s %12s\n' "mount to first byte, tree repo (ms), warm" "$(m first_tree_warm)"
printf '%-44s %12s\n' "mount to first byte, data repo (ms), cold" "$(m first_data_cold)"
printf '%-44s %12s\n' "mount to first byte, data repo (ms), warm" "$(m first_data_warm)"
printf '%-44s %12s\n' "client RSS after the walk (MiB)" "$(awk -v k="$(m rss_kib)" 'BEGIN { printf "%.1f", k / 1024 }')"
