#!/bin/bash
# `cvmfs-swift convert` at real sizes, on a 6 MB four-layer image (make-test-image.py bulky)
# in a loopback docker-registry: converted with --jobs 4 it gives the same flat root and
# layer copies as with --jobs 1; killed with SIGKILL in the middle of a throttled download
# and run again, it downloads none of the layers it had finished (nginx's access log in front
# of the registry tells), redoes the half-done ones and ends with the same trees; two images
# sharing four layers in one run download each shared layer once; a second run for an image
# that shares its layers with a converted one makes no new layer copies.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
for t in skopeo docker-registry nginx; do command -v $t >/dev/null || fail "$t is not installed"; done

MAKE="python3 $HERE/make-test-image.py"
$MAKE "$WORK/layout" bulky 1 >/dev/null
$MAKE "$WORK/layout" bulky2 2 >/dev/null
start_registry "$(free_port)"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:1" "docker://$REG/test/bulky:1"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:2" "docker://$REG/test/bulky:2"
# manifest_layers TAG: the layer digests (hex) of test/bulky:TAG as the registry has them
# (skopeo compresses the plain tar layer on the way in, giving it another digest)
manifest_layers() {
    curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/test/bulky/manifests/$1" \
        | python3 -c "import json,sys; print(' '.join(l['digest'][7:] for l in json.load(sys.stdin)['layers']))"
}
config_of() {  # config_of TAG: the config digest (hex) of test/bulky:TAG
    curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/test/bulky/manifests/$1" \
        | python3 -c "import json,sys; print(json.load(sys.stdin)['config']['digest'][7:])"
}
LAYERS1=$(manifest_layers 1)

# nginx in front of the registry, sending each response at 1 MB/s: a 1.5 MB layer takes a
# second and a half, time enough to interrupt a conversion with layers half downloaded.
PROXY_DIR=$WORK/proxy
mkdir -p "$PROXY_DIR/tmp"
PROXY_PORT=$(free_port)
cat > "$PROXY_DIR/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $PROXY_DIR/nginx.pid;
error_log $PROXY_DIR/error.log;
daemon off;
events { worker_connections 256; }
http {
    log_format plain '\$request_method \$uri \$status \$body_bytes_sent';
    access_log $PROXY_DIR/access.log plain;
    client_body_temp_path $PROXY_DIR/tmp/body;
    proxy_temp_path $PROXY_DIR/tmp/proxy;
    fastcgi_temp_path $PROXY_DIR/tmp/fastcgi;
    uwsgi_temp_path $PROXY_DIR/tmp/uwsgi;
    scgi_temp_path $PROXY_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$PROXY_PORT;
        location / { proxy_pass http://$REG; limit_rate 1m; }
    }
}
CONF
nginx -c "$PROXY_DIR/nginx.conf" -p "$PROXY_DIR/" &
PIDS+=($!)
SLOW=127.0.0.1:$PROXY_PORT
for _ in $(seq 50); do curl -fsS "http://$SLOW/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
blob_requests() { grep -c "^GET /v2/test/bulky/blobs/sha256:$1 200" "$PROXY_DIR/access.log" || true; }

FQRN=unpacked.test.local
recipe() { local f=$1; shift; { echo "version: 1"; echo "user: test"; echo "cvmfs_repo: '$FQRN'"; echo "input:"; for i in "$@"; do echo "  - '$i'"; done; } > "$f"; }
# convert NAME RECIPE ARGS...: into $WORK/NAME (repository), $WORK/NAME.staging
convert() { ( exec_convert "$@" ); }
# exec: started in the background, $! is then the converter itself, which kill -9 must reach
exec_convert() { local name=$1 recipe=$2; shift 2; exec "$BIN" convert "$recipe" --output "$WORK/$name/$FQRN" --keys "$WORK/keys" --staging "$WORK/$name.staging" --insecure --quiet "$@"; }
# trees STAGING REGISTRY: the flat root of REGISTRY/test/bulky:1 and its layer copies in a
# staging tree, as one listing. Times other than the image's own (make-test-image.py's MTIME)
# are those of the conversion (the Apptainer files, .metadata, directories made for a
# whiteout): left out; so is origin.json, which names the image (and so the registry address).
trees() {
    local staging=$1 registry=$2
    {
        python3 "$LISTING" --skip .cvmfscatalog "$staging/$registry/test/bulky:1/"
        for l in $LAYERS1; do echo "== layer $l"; python3 "$LISTING" --skip origin.json "$staging/.layers/${l:0:2}/$l"; done
    } | awk -F'\t' -v OFS='\t' 'NF > 4 && $5 != 1700000000 { $5 = "(conversion time)" } 1'
}

recipe "$WORK/direct.yaml" "$REG/test/bulky:1"
convert serial "$WORK/direct.yaml" --jobs 1 > "$WORK/serial.log" || { cat "$WORK/serial.log"; fail "conversion with --jobs 1"; }
trees "$WORK/serial.staging" "$REG" > "$WORK/serial.tsv"
convert parallel "$WORK/direct.yaml" --jobs 4 > "$WORK/parallel.log" || { cat "$WORK/parallel.log"; fail "conversion with --jobs 4"; }
trees "$WORK/parallel.staging" "$REG" > "$WORK/parallel.tsv"
diff "$WORK/serial.tsv" "$WORK/parallel.tsv" || fail "--jobs 4 gives other trees than --jobs 1"
[ "$(grep -c "bulk-[0-9].bin" "$WORK/serial.tsv")" -ge 8 ] || { grep bulk "$WORK/serial.tsv"; fail "the listing lacks the bulk files"; }
pass "--jobs 4 and --jobs 1 give the same flat root and layer copies ($(wc -l < "$WORK/serial.tsv") lines)"

# interrupted: SIGKILL once one layer is downloaded and another is under way
recipe "$WORK/slow.yaml" "$SLOW/test/bulky:1"
work=$WORK/resumed.staging.work
exec_convert resumed "$WORK/slow.yaml" --jobs 2 > "$WORK/resumed1.log" 2>&1 &
pid=$!
finished() { for l in $LAYERS1; do if [ -f "$work/blobs/$l" ]; then echo "$l"; fi; done; }
for _ in $(seq 200); do
    [ -n "$(finished)" ] && ls "$work"/blobs/*.part >/dev/null 2>&1 && break
    sleep 0.05
done
kill -9 $pid
wait $pid 2>/dev/null || true
done_before=$(finished)
[ -n "$done_before" ] || fail "no layer was finished when the conversion was killed"
[ "$(echo "$done_before" | wc -w)" -lt 4 ] || fail "every layer was finished before the kill: nothing to resume"
ls "$work"/blobs/*.part >/dev/null 2>&1 || fail "no half-downloaded blob was left by the kill"
[ ! -e "$WORK/resumed/$FQRN/.cvmfspublished" ] || fail "the killed conversion published"
mark=$(wc -l < "$PROXY_DIR/access.log")
convert resumed "$WORK/slow.yaml" --jobs 2 > "$WORK/resumed2.log" || { cat "$WORK/resumed2.log"; fail "the resumed conversion"; }
tail -n +"$((mark + 1))" "$PROXY_DIR/access.log" > "$WORK/after-kill.log"
for l in $done_before; do
    ! grep -q "blobs/sha256:$l" "$WORK/after-kill.log" || fail "layer ${l:0:12}, finished before the kill, was downloaded again"
done
for l in $LAYERS1; do
    echo "$done_before" | grep -q "$l" && continue
    grep -q "^GET /v2/test/bulky/blobs/sha256:$l 200" "$WORK/after-kill.log" || fail "layer ${l:0:12} (not finished at the kill) was not downloaded again"
done
trees "$WORK/resumed.staging" "$SLOW" > "$WORK/resumed.tsv"
diff "$WORK/serial.tsv" "$WORK/resumed.tsv" || fail "the resumed conversion gives other trees"
[ -z "$(ls "$work/layers" 2>/dev/null)" ] || fail "the published run left layer copies in the work folder: $(ls "$work/layers")"
[ "$(ls "$work/blobs" | sort | tr '\n' ' ')" = "$( (echo $LAYERS1 | tr ' ' '\n'; config_of 1) | sort | tr '\n' ' ')" ] \
    || fail "after the publish the work folder holds other blobs than the image's: $(ls "$work/blobs")"
pass "killed with $(echo "$done_before" | wc -w) of 4 layers downloaded, the rerun fetched only the other $((4 - $(echo "$done_before" | wc -w))) and gives the same trees"

# two images sharing four layers in one run: each shared layer downloaded once, one copy each
recipe "$WORK/both.yaml" "$SLOW/test/bulky:1" "$SLOW/test/bulky:2"
mark=$(wc -l < "$PROXY_DIR/access.log")
convert both "$WORK/both.yaml" > "$WORK/both.log" || { cat "$WORK/both.log"; fail "two images sharing layers"; }
tail -n +"$((mark + 1))" "$PROXY_DIR/access.log" > "$PROXY_DIR/both.log"
for l in $(manifest_layers 2); do
    n=$(grep -c "^GET /v2/test/bulky/blobs/sha256:$l 200" "$PROXY_DIR/both.log" || true)
    [ "$n" = 1 ] || fail "layer ${l:0:12} was downloaded $n times in one run"
done
[ "$(ls -d "$WORK"/both.staging/.layers/??/*/layerfs | wc -l)" = 5 ] || fail "not five layer copies for the two images"
pass "two images sharing four layers: five layers downloaded once each, five layer copies"

# a later run: the image sharing the converted image's layers makes only its own layer copy
recipe "$WORK/second.yaml" "$SLOW/test/bulky:1" "$SLOW/test/bulky:2"
ls -d "$WORK"/resumed.staging/.layers/??/* | sort > "$WORK/copies-before"
mark=$(wc -l < "$PROXY_DIR/access.log")
inode_before=$(stat -c %i "$WORK/resumed.staging/.layers/${LAYERS1:0:2}/${LAYERS1%% *}/layerfs/bulk-0.bin")
convert resumed "$WORK/second.yaml" > "$WORK/second.log" || { cat "$WORK/second.log"; fail "second image in a later run"; }
[ "$(ls -d "$WORK"/resumed.staging/.layers/??/* | sort | comm -13 "$WORK/copies-before" - | wc -l)" = 1 ] || fail "the later run did not add exactly one layer copy"
[ "$(stat -c %i "$WORK/resumed.staging/.layers/${LAYERS1:0:2}/${LAYERS1%% *}/layerfs/bulk-0.bin")" = "$inode_before" ] \
    || fail "a shared layer copy was made again"
grep -q "new: $SLOW/test/bulky:2" "$WORK/second.log" || { cat "$WORK/second.log"; fail "bulky:2 not converted"; }
tail -n +"$((mark + 1))" "$PROXY_DIR/access.log" | grep "^GET /v2/test/bulky/blobs/" | cut -d' ' -f2 | sed 's|.*sha256:||' | sort > "$WORK/later-blobs"
[ "$(tr '\n' ' ' < "$WORK/later-blobs")" = "$( (manifest_layers 2 | awk '{print $5}'; config_of 2) | sort | tr '\n' ' ')" ] \
    || fail "the later run downloaded other blobs than bulky:2's own layer and config: $(cat "$WORK/later-blobs")"
pass "a later run converting an image that shares four layers keeps their copies and blobs, adds one copy and downloads only its own layer"
echo "all resume tests passed"
