#!/bin/sh
# Installs the Debian 12 packages that building, testing and the demo need.
# Idempotent: packages already present are left alone.
set -eu
packages="libfuse3-dev fuse3 libcurl4-openssl-dev zlib1g-dev libsqlite3-dev libssl-dev libpacparser-dev \
  nginx-light squid attr sqlite3 python3 curl procps psmisc strace \
  bubblewrap podman runc debootstrap busybox-static umoci skopeo docker-registry"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "swift is in /opt/swift/usr/bin: add it to PATH" >&2
    else
        echo "a Swift 6 toolchain is needed (https://www.swift.org/install/linux/debian/12/)" >&2
    fi
    exit 1
fi
