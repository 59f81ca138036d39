#!/bin/bash
# Runs every test: the Swift unit and format tests, then the end-to-end tests
# against real FUSE mounts and web servers. Installs what it needs on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh

echo "== build"
swift build --build-tests 2>&1 | grep -E "error|warning: unre|Compiling|Build" | grep -v "^\[" || true
swift build --build-tests >/dev/null

echo "== unit tests"
swift test --skip-build 2>&1 | tail -n 40 | grep -Ev "^\s*$" || { echo "unit tests failed"; exit 1; }
swift test --skip-build >/dev/null 2>&1

echo "== integration tests"
swift build -c release --product cvmfs-swift >/dev/null
CVMFS_SWIFT_BIN="$(swift build -c release --show-bin-path)/cvmfs-swift" ./integration/run-all.sh
echo "== all tests passed"
