# Shared helpers for the end-to-end tests: a private nginx, mounts, cleanup.
# Everything a test starts is recorded and stopped by pid in `cleanup`, which
# every test installs with `trap cleanup EXIT`; nothing under /etc is touched.

set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="${CVMFS_SWIFT_BIN:-$ROOT/.build/release/cvmfs-swift}"
FIXTURE="$ROOT/Tests/Fixtures/small.cvmfs.local"
LISTING="$ROOT/tools/tree-listing.py"
WORK="$(mktemp -d /tmp/cvmfs-swift-it.XXXXXX)"
PIDS=()
MOUNTS=()

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
    local status=$?
    for m in "${MOUNTS[@]:-}"; do
        [ -n "$m" ] || continue
        if grep -q " $m fuse" /proc/mounts; then
            fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        fi
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    # Give a stopping client a moment to leave the mount table.
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$WORK"
    exit $status
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_nginx NAME ROOTDIR: serves ROOTDIR at http://127.0.0.1:$PORT/; sets NGINX_PORT_<NAME> and
# NGINX_LOG_<NAME>. Repositories go below ROOTDIR/cvmfs/<fqrn>.
start_nginx() {
    local name=$1 root=$2 dir="$WORK/nginx-$1" port
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat > "$dir/nginx.conf" <<CONF
user root;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon off;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    log_format plain '\$request_method \$uri \$status \$body_bytes_sent';
    access_log $dir/access.log plain;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    sendfile on;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port;
        root $root;
    }
}
CONF
    nginx -c "$dir/nginx.conf" -p "$dir/" &
    PIDS+=($!)
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    printf -v "NGINX_PORT_$name" '%s' "$port"
    printf -v "NGINX_LOG_$name" '%s' "$dir/access.log"
}

# write_config FILE FQRN URL KEY CACHE [EXTRA...]: a client configuration file.
write_config() {
    local file=$1 fqrn=$2 url=$3 key=$4 cache=$5
    shift 5
    {
        echo "CVMFS_SERVER_URL=$url"
        echo "CVMFS_HTTP_PROXY=DIRECT"
        echo "CVMFS_PUBLIC_KEY=$key"
        echo "CVMFS_CACHE_BASE=$cache"
        echo "CVMFS_SHARED_CACHE=no"
        echo "CVMFS_QUOTA_LIMIT=${QUOTA_MB:-2000}"
        echo "CVMFS_KCACHE_TIMEOUT=60"
        for line in "$@"; do echo "$line"; done
    } > "$file"
}

# mount_repo FQRN MOUNTPOINT CONFIG: mounts in the background (our daemon mode) and records it.
mount_repo() {
    local fqrn=$1 mnt=$2 config=$3
    mkdir -p "$mnt"
    MOUNTS+=("$mnt")
    "$BIN" mount "$fqrn" "$mnt" -o "config=$config"
    local pid
    pid=$(getfattr --absolute-names --only-values -n user.pid "$mnt" 2>/dev/null || true)
    [ -n "$pid" ] && PIDS+=("$pid")
}

unmount_repo() {
    local mnt=$1 pid
    pid=$(getfattr --absolute-names --only-values -n user.pid "$mnt" 2>/dev/null || true)
    fusermount3 -u "$mnt"
    if [ -n "$pid" ]; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
}
