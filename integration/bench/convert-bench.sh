#!/usr/bin/env bash
# Converting a large multi-layer image from a loopback registry (integration/bench/README.md):
# MB/s of layer data and peak RSS of `cvmfs-swift convert`, beside `skopeo copy` + `umoci
# unpack` + `cvmfs-swift publish` of the same image; then a second image sharing all but its
# top layer: seconds and bytes downloaded. The image is built offline by make-big-image.py from
# the files Debian packages installed under /usr. Everything lives under $BENCH_DIR (default
# /tmp/cvmfs-bench/convert), never in the repository.
#
#   integration/bench/convert-bench.sh [SIZE_MB=1100] [LAYERS=8]
#
# Environment: BENCH_DIR, JOBS (convert --jobs), CVMFS_SWIFT_BIN (default the release build;
# SKIP_BUILD=1 uses it as it is).
set -euo pipefail
size_mb=${1:-1100}
layers=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bench=${BENCH_DIR:-/tmp/cvmfs-bench/convert}
jobs=${JOBS:-}
bin=${CVMFS_SWIFT_BIN:-$repo/.build/release/cvmfs-swift}
if [[ -z "${CVMFS_SWIFT_BIN:-}" && "${SKIP_BUILD:-0}" != 1 ]]; then
    (cd "$repo" && swift build -c release --product cvmfs-swift >/dev/null)
fi
for t in skopeo umoci docker-registry nginx /usr/bin/time; do command -v $t >/dev/null || { echo "$t is not installed (apt-get install skopeo umoci docker-registry nginx time)" >&2; exit 1; }; done

mkdir -p "$bench"
layout=$bench/layout-$size_mb-$layers
if [[ ! -f $layout.complete ]]; then
    rm -rf "$layout"
    echo "building a $size_mb MB image in $layers layers from /usr (once, kept in $layout)"
    python3 "$here/make-big-image.py" "$layout" "$size_mb" "$layers"
    touch "$layout.complete"
fi
run=$bench/run
rm -rf "$run"
mkdir -p "$run"
pids=()
stop() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap stop EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# the registry, and nginx in front of it counting the bytes each run downloads
port=$(free_port)
printf 'version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: 127.0.0.1:%s }\n' "$run/registry" "$port" > "$run/registry.yml"
docker-registry serve "$run/registry.yml" > "$run/registry.log" 2>&1 &
pids+=($!)
reg=127.0.0.1:$port
for _ in $(seq 50); do curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
proxy_port=$(free_port)
mkdir -p "$run/nginx/tmp"
cat > "$run/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $run/nginx/nginx.pid;
error_log $run/nginx/error.log;
daemon off;
events { worker_connections 256; }
http {
    log_format bytes '\$request_method \$uri \$status \$body_bytes_sent';
    access_log $run/nginx/access.log bytes;
    client_body_temp_path $run/nginx/tmp/body;
    proxy_temp_path $run/nginx/tmp/proxy;
    fastcgi_temp_path $run/nginx/tmp/fastcgi;
    uwsgi_temp_path $run/nginx/tmp/uwsgi;
    scgi_temp_path $run/nginx/tmp/scgi;
    server { listen 127.0.0.1:$proxy_port; location / { proxy_pass http://$reg; proxy_buffering off; } }
}
CONF
nginx -c "$run/nginx/nginx.conf" -p "$run/nginx/" &
pids+=($!)
via=127.0.0.1:$proxy_port
for _ in $(seq 50); do curl -fsS "http://$via/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
for tag in 1 2; do skopeo copy -q --dest-tls-verify=false "oci:$layout:$tag" "docker://$reg/bench/big:$tag"; done
layer_bytes=$(python3 -c "import json; i=json.load(open('$layout/index.json'))['manifests'][0]['digest'][7:]; print(sum(l['size'] for l in json.load(open('$layout/blobs/sha256/'+i))['layers']))")

downloaded() { awk -v from="$1" 'NR > from && $1 == "GET" { s += $4 } END { print s + 0 }' "$run/nginx/access.log"; }
lines() { wc -l < "$run/nginx/access.log"; }
# timed LABEL COMMAND...: runs COMMAND under /usr/bin/time; sets SECONDS_TAKEN and PEAK_KB
timed() {
    local label=$1; shift
    /usr/bin/time -f '%e %M' -o "$run/time.$label" "$@" > "$run/$label.log" 2>&1 || { tail -n 20 "$run/$label.log"; exit 1; }
    read -r SECONDS_TAKEN PEAK_KB < "$run/time.$label"
}
mbps() { python3 -c "print('%.1f' % ($1 / 1e6 / max($2, 0.001)))"; }

recipe() { { echo "version: 1"; echo "user: bench"; echo "cvmfs_repo: bench.test.local"; echo "input:"; for i in "$@"; do echo "  - '$i'"; done; } > "$run/recipe.yaml"; }
convert_args=(--output "$run/repo/bench.test.local" --keys "$run/keys" --staging "$run/staging" --insecure --quiet)
[ -n "$jobs" ] && convert_args+=(--jobs "$jobs")

recipe "$via/bench/big:1"
mark=$(lines)
timed convert1 "$bin" convert "$run/recipe.yaml" "${convert_args[@]}"
c1_s=$SECONDS_TAKEN c1_kb=$PEAK_KB c1_bytes=$(downloaded "$mark")
flat_bytes=$(du -sb --apparent-size "$run/staging/.flat" | cut -f1)

recipe "$via/bench/big:1" "$via/bench/big:2"
mark=$(lines)
timed convert2 "$bin" convert "$run/recipe.yaml" "${convert_args[@]}"
c2_s=$SECONDS_TAKEN c2_kb=$PEAK_KB c2_bytes=$(downloaded "$mark")

# the same image the long way: skopeo copy, umoci unpack, publish the root file system
timed skopeo skopeo copy -q --src-tls-verify=false "docker://$reg/bench/big:1" "oci:$run/oci:1"
s_s=$SECONDS_TAKEN s_kb=$PEAK_KB
timed umoci umoci unpack --image "$run/oci:1" "$run/bundle"
u_s=$SECONDS_TAKEN u_kb=$PEAK_KB
timed publish "$bin" publish "$run/bundle/rootfs" "$run/plain-repo/plain.test.local" --name plain.test.local --keys "$run/keys"
p_s=$SECONDS_TAKEN p_kb=$PEAK_KB
total_s=$(python3 -c "print('%.2f' % ($s_s + $u_s + $p_s))")
peak_kb=$(printf '%s\n' "$s_kb" "$u_kb" "$p_kb" | sort -n | tail -1)

echo
echo "image: $(python3 -c "import json; print(len(json.load(open('$layout/blobs/sha256/' + json.load(open('$layout/index.json'))['manifests'][0]['digest'][7:]))['layers']))") layers, $((layer_bytes / 1000000)) MB of layer blobs, $((flat_bytes / 1000000)) MB unpacked (flat root); jobs ${jobs:-default}"
echo
echo "| | seconds | MB/s of layer data | MB/s unpacked | peak RSS |"
echo "|---|---|---|---|---|"
echo "| \`cvmfs-swift convert\` (download, layer copies, flat root, publish) | $c1_s | $(mbps "$layer_bytes" "$c1_s") | $(mbps "$flat_bytes" "$c1_s") | $((c1_kb / 1024)) MB |"
echo "| \`skopeo copy\` + \`umoci unpack\` + \`cvmfs-swift publish\` | $total_s ($s_s + $u_s + $p_s) | $(mbps "$layer_bytes" "$total_s") | $(mbps "$flat_bytes" "$total_s") | $((peak_kb / 1024)) MB |"
echo
echo "bytes downloaded by the first conversion: $c1_bytes"
echo "second image (all but its top layer shared), converted in a later run: $c2_s s, $c2_bytes bytes downloaded, peak RSS $((c2_kb / 1024)) MB"
