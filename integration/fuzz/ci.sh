#!/bin/bash
# The fuzz step of scripts/test.sh: replays the seed corpus and the regression inputs through
# the ordinary debug build of cvmfs-fuzz (built by `swift build --build-tests`), then fuzzes
# every harness briefly (FUZZ_SECONDS, default 120 s in all, 2 at a time) in the separate
# fuzz build. Exit status 0 only if no input fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
replay="$(swift build --show-bin-path)/cvmfs-fuzz"
[ -x "$replay" ] || swift build --product cvmfs-fuzz 2>&1 | grep -E "error:|Build" || true
echo "-- replaying seeds and regression inputs ($replay)"
"$replay" replay-all integration/fuzz/corpus integration/fuzz/regressions | tail -n 1
echo "-- fuzzing for ${FUZZ_SECONDS:-120} s"
./integration/fuzz/run.sh "${FUZZ_SECONDS:-120}"
