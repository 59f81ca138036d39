#!/bin/bash
# Runs every end-to-end test; each starts and stops its own servers and mounts.
set -euo pipefail
cd "$(dirname "$0")"
failed=()
for t in test-*.sh; do
    echo "== $t"
    if ! timeout 600 "./$t"; then failed+=("$t"); fi
    # A test leaves no mount behind, even below its own scratch folder.
    left=$(awk '$5 ~ "^/tmp/cvmfs-swift-it\\." {print $5}' /proc/self/mountinfo)
    if [ -n "$left" ]; then
        echo "$t left mounts behind: $left"
        failed+=("$t (mounts left)")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all integration tests passed"
