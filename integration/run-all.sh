#!/bin/bash
# Runs every end-to-end test; each starts and stops its own servers and mounts.
set -euo pipefail
cd "$(dirname "$0")"
failed=()
for t in test-*.sh; do
    echo "== $t"
    if ! timeout 600 "./$t"; then failed+=("$t"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all integration tests passed"
