#!/bin/bash
# Runs every test: the Swift unit and format tests, then the end-to-end tests
# against real FUSE mounts, web servers and proxies. Installs what it needs on
# Debian 12. Exit status 0 only if everything passed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh

echo "== build (debug, with tests) and release"
swift build --build-tests 2>&1 | grep -E "error:|warning: unre|Build complete" || true
swift build -c release --product cvmfs-swift 2>&1 | grep -E "error:|Build complete" || true

echo "== unit tests"
set +e
swift test --skip-build > .build/unit-tests.log 2>&1
unit=$?
set -e
grep -E "✘|error:|Test run with" .build/unit-tests.log | tail -n 40
[ "$unit" -eq 0 ] || { echo "unit tests failed (full log: .build/unit-tests.log)"; exit 1; }

echo "== fuzz harnesses (seeds, regression inputs, a short run; integration/fuzz/README.md)"
./integration/fuzz/ci.sh

echo "== integration tests"
CVMFS_SWIFT_BIN="$(swift build -c release --show-bin-path)/cvmfs-swift" ./integration/run-all.sh

echo "== soak, 2 minutes (integration/soak.sh; the README has a 30-minute run)"
CVMFS_SWIFT_BIN="$(swift build -c release --show-bin-path)/cvmfs-swift" timeout 600 ./integration/soak.sh 2
echo "== all tests passed"
