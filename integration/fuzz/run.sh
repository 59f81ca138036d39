#!/bin/bash
# Fuzzes every parser harness of cvmfs-fuzz (Fuzz/, integration/fuzz/README.md).
#
#   integration/fuzz/run.sh SECONDS [HARNESS...]
#
# Builds the libFuzzer binary in its own scratch path (.build-fuzz, release, -DFUZZING
# -sanitize=fuzzer,address), then runs the harnesses FUZZ_JOBS (2) at a time so that the
# whole run takes about SECONDS of wall time, shared by weight (slower harnesses get more).
# Each run starts from the seeds (integration/fuzz/corpus/<harness>), the regression inputs
# (integration/fuzz/regressions/<harness>) and the corpus earlier runs grew
# (.build-fuzz/corpus/<harness>, kept between runs). Writes a summary table of execs and
# coverage per harness to <run folder>/summary.md; crash, timeout, leak and out-of-memory
# inputs go to <run folder>/crashes/<harness>/. Exits non-zero if any harness failed.
#
# Environment: FUZZ_JOBS (2), FUZZ_OUT (run folder, default .build-fuzz/runs/<UTC time>),
# FUZZ_TIMEOUT (seconds per input, 10), FUZZ_RSS_MB (memory limit per process, 2048),
# FUZZ_SKIP_BUILD=1 (use the binary already built), ASAN_OPTIONS (malloc_context_size=0).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
    echo "usage: $0 SECONDS [HARNESS...]" >&2
    exit 2
fi
total=$1
shift
jobs=${FUZZ_JOBS:-2}
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
scratch=.build-fuzz
out=${FUZZ_OUT:-$scratch/runs/$(date -u +%Y%m%dT%H%M%SZ)}

# Inputs per second of each harness under ASan, two harnesses at a time on the 2-core machine,
# over a whole hour started from the seeds (integration/fuzz/README.md): a harness slows as its
# corpus grows, and a new machine has no corpus yet, so rates from a short run, or from an hour on
# a grown corpus, starve some harnesses. The time is shared in inverse proportion, so a rate set
# too high starves its harness: SECONDS=3600 gives each about 7200 / sum(1/rate) inputs, 1.049
# million with these (printed below). whitelist: 1963/s that hour, before its parser stopped
# walking the payload as a generic collection (2.3 times as fast since; 3000 here, to be safe).
declare -A rate=(
    [catalog]=635 [cachedb]=384 [certificate]=1970 [config]=2508
    [letter]=2118 [tar]=3904 [object]=5842 [recipe]=4210 [image]=11066
    [manifest]=8137 [whitelist]=3000 [profile]=10759
)

if [ $# -gt 0 ]; then
    harnesses=("$@")
else
    harnesses=()
    for dir in integration/fuzz/corpus/*/; do harnesses+=("$(basename "$dir")"); done
fi
for h in "${harnesses[@]}"; do
    [ -d "integration/fuzz/corpus/$h" ] || { echo "no seed corpus integration/fuzz/corpus/$h" >&2; exit 2; }
done

if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
    echo "== building the fuzz binary ($scratch, release, -sanitize=fuzzer,address)"
    mkdir -p "$scratch"
    if ! swift build -c release --scratch-path "$scratch" --product cvmfs-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING > "$scratch/fuzz-build.log" 2>&1; then
        grep -E "error:" "$scratch/fuzz-build.log" | head -n 20 >&2 || tail -n 20 "$scratch/fuzz-build.log" >&2
        echo "fuzz build failed (log: $scratch/fuzz-build.log)" >&2
        exit 1
    fi
fi
binary=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/cvmfs-fuzz
[ -x "$binary" ] || { echo "no fuzz binary at $binary" >&2; exit 1; }

# Scratch files of the harnesses (SQLite files, cache folders) on tmpfs when there is one.
tmp=$(mktemp -d "${FUZZ_TMP:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)}/cvmfs-fuzz-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/bin" "$out/logs"
# Microseconds per input of each harness, and their sum over the harnesses run.
sum=0
declare -A cost seconds
for h in "${harnesses[@]}"; do
    cost[$h]=$((1000000 / ${rate[$h]:-1000}))
    sum=$((sum + cost[$h]))
done
for h in "${harnesses[@]}"; do
    s=$((total * jobs * cost[$h] / sum))
    seconds[$h]=$((s < 1 ? 1 : s))
done
expected=$((total * jobs * 1000000 / sum))

# ASan records the stack of every allocation so that a report can say where the memory came
# from; unwinding it costs cachedb, whose SQLite and file calls allocate a lot, a quarter of its
# time (15,000 inputs: 41-43 s against 31-33 s). A report still names the bad access and its own
# stack, and replaying the saved input (below) gives the allocation stacks. ASAN_OPTIONS set in
# the environment wins.
asan_options=${ASAN_OPTIONS:-malloc_context_size=0}

run_one() {
    local h=$1
    local corpus=$scratch/corpus/$h crashes=$out/crashes/$h
    mkdir -p "$corpus" "$crashes" "$tmp/$h"
    ln -sf "$(realpath "$binary")" "$out/bin/fuzz-$h"
    local inputs=("$corpus" "integration/fuzz/corpus/$h")
    [ -d "integration/fuzz/regressions/$h" ] && inputs+=("integration/fuzz/regressions/$h")
    # TMPDIR: the harness's scratch files; -close_fd_mask=1: the parsers' stdout is noise.
    # SWIFT_BACKTRACE=enable=no: Swift's own crash handler reads memory ASan reports on.
    # ASAN_OPTIONS: see $asan_options above.
    ASAN_OPTIONS=$asan_options SWIFT_BACKTRACE=enable=no TMPDIR="$(realpath "$tmp/$h")" "$out/bin/fuzz-$h" "${inputs[@]}" \
        -max_total_time="${seconds[$h]}" -timeout="$timeout" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" \
        -detect_leaks=1 -print_final_stats=1 -close_fd_mask=1 -artifact_prefix="$crashes/" \
        > "$out/logs/$h.log" 2>&1 && rc=0 || rc=$?
    echo "$rc" > "$out/logs/$h.rc"
}

echo "== fuzzing ${#harnesses[@]} harnesses for about ${total} s, $jobs at a time, about $expected inputs each (run folder $out)"
running=0
for h in "${harnesses[@]}"; do
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
    echo "   $h: ${seconds[$h]} s"
    run_one "$h" &
    running=$((running + 1))
done
wait || true

failed=0
{
    echo "| harness | seconds | inputs run | inputs/s | coverage (edges) | features | corpus | peak RSS | result |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    for h in "${harnesses[@]}"; do
        log=$out/logs/$h.log
        rc=$(cat "$out/logs/$h.rc" 2>/dev/null || echo "?")
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
        last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
        corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<< "$last")
        artifacts=$(find "$out/crashes/$h" -type f | wc -l)
        result=ok
        if [ "$rc" != 0 ] || [ "$artifacts" -gt 0 ]; then
            result="FAILED (exit $rc"
            grep -qE "ERROR: libFuzzer: timeout|ALARM" "$log" && result+=", timeout"
            grep -qE "LeakSanitizer" "$log" && result+=", leak"
            grep -qE "out-of-memory|malloc\(.*\) exceeds" "$log" && result+=", out of memory"
            grep -qE "deadly signal|AddressSanitizer|Fatal error|invariant broken" "$log" && result+=", crash"
            result+="; $artifacts input(s) in $out/crashes/$h)"
            failed=1
        fi
        echo "| $h | ${seconds[$h]} | ${execs:-?} | ${speed:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${peak:-?} MB | $result |"
    done
} > "$out/summary.md"
cat "$out/summary.md"
if [ "$failed" != 0 ]; then
    echo "fuzzing found problems: logs in $out/logs, inputs in $out/crashes" >&2
    echo "replay one: $binary <input> with CVMFS_FUZZ_HARNESS=<harness>, or \$(swift build --show-bin-path)/cvmfs-fuzz replay <harness> <input>" >&2
    exit 1
fi
echo "== fuzzing passed (summary: $out/summary.md)"
