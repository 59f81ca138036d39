# Shared helpers for the end-to-end tests: a private nginx, mounts, cleanup.
# Everything a test starts is recorded and stopped by pid in `cleanup`, which
# every test installs with `trap cleanup EXIT`; nothing under /etc is touched.

set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="${CVMFS_SWIFT_BIN:-$ROOT/.build/release/cvmfs-swift}"
FIXTURE="$ROOT/Tests/Fixtures/small.cvmfs.local"
LISTING="$ROOT/tools/tree-listing.py"
# CVMFS_SWIFT_IT_TMP moves the work folder off /tmp, whose cvmfs-swift-it.* mounts run-all.sh
# counts as left behind: a soak can then run beside the test suite.
WORK="$(mktemp -d "${CVMFS_SWIFT_IT_TMP:-/tmp}/cvmfs-swift-it.XXXXXX")"
PIDS=()
MOUNTS=()

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/*.debug.log; do
            [ -f "$log" ] || continue
            echo "--- last lines of $(basename "$log"):" >&2
            grep -v "^\[[0-9.]*\] [^ ]*: parameter " "$log" | tail -n 15 >&2
        done
    fi
    for m in "${MOUNTS[@]:-}"; do
        [ -n "$m" ] || continue
        # FUSE mounts and the small tmpfs disks some tests make.
        if grep -q " $m " /proc/mounts; then
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
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }
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
        # Like a Stratum 1 (upstream's Apache config): content-addressed objects never change,
        # so proxies may keep them; without this, squid revalidates every recently written file.
        location ~ /data/ { expires 3d; }
        # The manifest and whitelist change with each revision, here often twice in one second,
        # which a revalidation by Last-Modified (1 s resolution) cannot tell apart: proxies must
        # not keep them (upstream's stratum 1 lets them keep it 61 s), so a remount right after
        # a snapshot sees the new revision.
        location ~ /\.cvmfs(published|whitelist)\$ { add_header Cache-Control "no-store"; etag off; if_modified_since off; }
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

# start_registry PORT: Debian's docker-registry on 127.0.0.1:PORT with its storage in $WORK;
# sets REG=127.0.0.1:PORT once it answers.
start_registry() {
    local port=$1
    mkdir -p "$WORK/registry"
    cat > "$WORK/registry.yml" <<CONF
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $WORK/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
CONF
    docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
    PIDS+=($!)
    REG=127.0.0.1:$port
    for _ in $(seq 50); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
}

# write_config FILE FQRN URL KEY CACHE [EXTRA...]: a client configuration file.
write_config() {
    local file=$1 fqrn=$2 url=$3 key=$4 cache=$5
    shift 5
    {
        echo "CVMFS_SERVER_URL='$url'"   # quoted: the file is shell, and ';' separates hosts
        echo "CVMFS_HTTP_PROXY=DIRECT"
        echo "CVMFS_PUBLIC_KEY=$key"
        echo "CVMFS_CACHE_BASE=$cache"
        echo "CVMFS_SHARED_CACHE=no"
        echo "CVMFS_QUOTA_LIMIT=${QUOTA_MB:-2000}"
        echo "CVMFS_KCACHE_TIMEOUT=60"
        # The client's log (and a daemon's crash report), shown when a test fails.
        echo "CVMFS_DEBUGLOG=$WORK/$fqrn.debug.log"
        # NAME=VALUE arguments are written with the value single-quoted ('|' and ';' are shell syntax).
        for line in "$@"; do echo "${line%%=*}='${line#*=}'"; done
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

# cache_bytes DIR: bytes of the cached and in-flight objects below a cache directory, without
# its bookkeeping files. Read while fills run: a file caught mid-rename (txn/ → xx/) counts
# once (by inode), and one gone between listing and stat is skipped (du fails on it).
cache_bytes() {  # a file renamed or evicted during the walk makes find fail: not an error here
    { find "$1" -type f ! -name 'cachedb*' ! -name 'lock_cachedb' ! -name 'running.*' ! -name '.cvmfscache' \
        ! -name 'cvmfschecksum.*' -printf '%i %s\n' 2>/dev/null || true; } | sort -u -k1,1 | awk '{s += $2} END {print s + 0}'
}

# resign_whitelist WHITELIST MASTERKEY EXPIRY: rewrites a SHA-1 repository's .cvmfswhitelist in
# place with its expiry line set to EXPIRY (YYYYMMDDHHMMSS, UTC), hashed and signed again with the
# master key as the publisher does (docs/format/manifest-and-signatures.md §3): a whitelist the
# trusted key really signed, valid or expired as the test needs.
resign_whitelist() {
    python3 - "$1" "$2" "$3" <<'PY'
import hashlib, subprocess, sys
path, key, expiry = sys.argv[1:]
data = open(path, "rb").read()
lines = data[: data.index(b"\n--\n") + 1].split(b"\n")[:-1]
lines = [b"E" + expiry.encode() if l.startswith(b"E") else l for l in lines]
payload = b"".join(l + b"\n" for l in lines)
digest = hashlib.sha1(payload).hexdigest().encode()
sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key], input=digest, capture_output=True, check=True).stdout
open(path, "wb").write(payload + b"--\n" + digest + b"\n" + sig)
PY
}

# xattr PATH NAME: the value of the magic attribute user.NAME of PATH (a file or the mount).
xattr() { getfattr --absolute-names --only-values -n "user.$2" "$1"; }

unmount_repo() {
    local mnt=$1 pid
    pid=$(getfattr --absolute-names --only-values -n user.pid "$mnt" 2>/dev/null || true)
    fusermount3 -u "$mnt"
    if [ -n "$pid" ]; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
}

# start_squid NAME: a caching forward proxy on 127.0.0.1 with a private config (recipes/50-http.sh);
# sets SQUID_PORT_<NAME> and SQUID_LOG_<NAME> (access log, squid format: ... TCP_MISS/200 ...).
# Runs in the foreground (-N) so its pid is ours to stop. Debian's stock config denies
# to_localhost, which would block our loopback origins; this config allows localhost only.
start_squid() {
    local name=$1 dir="$WORK/squid-$1" port
    port=$(free_port)
    mkdir -p "$dir/cache"
    cat > "$dir/squid.conf" <<CONF
http_port 127.0.0.1:$port
visible_hostname squid-$name.test
pid_filename $dir/squid.pid
cache_effective_user proxy
cache_dir ufs $dir/cache 512 16 256
maximum_object_size 256 MB
cache_mem 64 MB
coredump_dir $dir
access_log stdio:$dir/access.log squid
cache_log $dir/cache.log
cache_store_log none
http_access allow localhost
http_access deny all
shutdown_lifetime 0 seconds
CONF
    chown -R proxy:proxy "$dir"
    chmod 755 "$WORK"     # mktemp -d makes it 0700; squid's workers run as 'proxy'
    squid -f "$dir/squid.conf" -z -N > "$dir/init.log" 2>&1 || fail "squid -z: $(cat "$dir/init.log")"
    squid -f "$dir/squid.conf" -N -d 0 > "$dir/stderr.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$port" "http://127.0.0.1:1/" 2>/dev/null)" != 000 ] && break
        sleep 0.1
    done
    printf -v "SQUID_PORT_$name" '%s' "$port"
    printf -v "SQUID_LOG_$name" '%s' "$dir/access.log"
}

# start_fault_server NAME ROOTDIR [ARGS...]: integration/fault_server.py serving ROOTDIR; sets
# FAULT_PORT_<NAME> and FAULT_LOG_<NAME>. Change its mode at run time with fault_mode.
start_fault_server() {
    local name=$1 root=$2 dir="$WORK/fault-$1"
    shift 2
    mkdir -p "$dir"
    python3 "$HERE/fault_server.py" --root "$root" --port 0 --log "$dir/requests.log" "$@" > "$dir/stdout" 2> "$dir/stderr" &
    PIDS+=($!)
    local port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^PORT //p' "$dir/stdout" 2>/dev/null | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || fail "fault server $name did not start: $(cat "$dir/stderr")"
    printf -v "FAULT_PORT_$name" '%s' "$port"
    printf -v "FAULT_LOG_$name" '%s' "$dir/requests.log"
}

# fault_mode PORT MODE [PATH]: switches a running fault server (PATH omitted = global).
fault_mode() {
    local url="http://127.0.0.1:$1/__fault?mode=$2"
    [ -n "${3:-}" ] && url="$url&path=$3"
    curl -fsS --noproxy '*' -o /dev/null "$url"
}

# A port nothing listens on: connections are refused at once.
dead_port() { free_port; }

# elapsed_ms START_NS: milliseconds since START_NS (from `date +%s%N`).
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# start_latency_proxy NAME UPSTREAM_PORT RTT_MS: the latency proxy on loopback in front of
# UPSTREAM_PORT, adding RTT_MS per round trip; sets LATENCY_PORT_<NAME> and LATENCY_PID.
# integration/latency_proxy.py is the workspace's shared/recipes/latency_proxy.py, kept here
# because CI's clone has nothing beside it; the workspace's copy is used where it exists.
LATENCY_PROXY=${LATENCY_PROXY:-$ROOT/../shared/recipes/latency_proxy.py}
[ -f "$LATENCY_PROXY" ] || LATENCY_PROXY=$HERE/latency_proxy.py
start_latency_proxy() {
    local name=$1 upstream=$2 rtt=$3 port
    port=$(free_port)
    python3 "$LATENCY_PROXY" --listen "127.0.0.1:$port" --upstream "127.0.0.1:$upstream" \
        --delay "$(awk -v r="$rtt" 'BEGIN { print r / 2000 }')" 2>> "$WORK/latency-proxy-$name.log" &
    PIDS+=($!)
    LATENCY_PID=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
    printf -v "LATENCY_PORT_$name" '%s' "$port"
}
