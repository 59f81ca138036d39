#!/bin/bash
# The podman additional image store that `convert` writes under podmanStore/ (docs/architecture.md
# §5): two images from a loopback registry that share their two lower layers, converted and
# published, served by nginx and mounted with an empty cache; podman, in a private storage
# root, runs one by name from MNT/podmanStore with the image's entrypoint, ENV and WORKDIR and
# no request to the registry; the shared layers are one .layers copy and one store entry each;
# converting again changes nothing.
source "$(dirname "$0")/lib.sh"
source "$HERE/lib-containers.sh"
trap ctr_cleanup EXIT
ctr_install podman runc skopeo docker-registry || fail "cannot install podman, runc, skopeo, docker-registry"

FQRN=unpacked.test.local
OUT="$WORK/www/cvmfs/$FQRN"
STAGING="$WORK/staging"
CONVERT=("$BIN" convert --output "$OUT" --keys "$WORK/keys" --staging "$STAGING" --insecure --quiet)
mkdir -p "$WORK/www/cvmfs"
python3 "$HERE/make-test-image.py" "$WORK/layout" python 1 >/dev/null
python3 "$HERE/make-test-image.py" "$WORK/layout" python2 2 >/dev/null
start_registry "$(free_port)"
for t in 1 2; do skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:$t" "docker://$REG/test/python:$t" || fail "push tag $t"; done
printf 'version: 1\nuser: test\ncvmfs_repo: %s\ninput:\n  - %s\n  - %s\n' "$FQRN" "$REG/test/python:1" "$REG/test/python:2" > "$WORK/recipe.yaml"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert1.log" || { cat "$WORK/convert1.log"; fail "conversion"; }

# shared layers: 3 distinct layers in 2 images, each once in .layers and once in the store
n=$(ls -d "$STAGING"/.layers/??/*/layerfs | wc -l)
[ "$n" = 3 ] || fail ".layers holds $n layerfs, want 3"
store="$STAGING/podmanStore"
count() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1"; }
[ "$(count "$store/overlay-layers/layers.json")" = 3 ] || fail "layers.json: $(cat "$store/overlay-layers/layers.json")"
[ "$(count "$store/overlay-images/images.json")" = 2 ] || fail "images.json: $(cat "$store/overlay-images/images.json")"
[ "$(ls -d "$store"/overlay/*/diff | wc -l)" = 3 ] || fail "overlay holds $(ls -d "$store"/overlay/*/diff | wc -l) layers"
for d in "$store"/overlay/*/diff; do
    [ -L "$d" ] && [[ "$(readlink "$d")" == ../../../.layers/??/*/layerfs ]] || fail "$d is not a symlink into .layers"
done
pass "two images sharing two layers: 3 .layers copies, 3 store layers, 2 store images"

start_nginx A "$WORK/www"
conf="$WORK/client.conf"
write_config "$conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT="$WORK/cvmfs/$FQRN"
mount_repo "$FQRN" "$MNT" "$conf"
[ -f "$MNT/podmanStore/overlay-images/images.json" ] || fail "no podmanStore in the mounted repository"

ctr_podman_setup "$WORK/podman"
PY='import os; print(os.environ["GREETING"], "entered=" + os.environ.get("ENTERED", "no"), os.getcwd())'
registry_requests() { grep -c '"\(GET\|HEAD\) /v2/' "$WORK/registry.log" || true; }
before=$(registry_requests)
[ "$before" -gt 0 ] || fail "the registry's access log shows no request from the pushes and the conversion"
t=$(date +%s%N)
out=$(podman --storage-opt "additionalimagestore=$MNT/podmanStore" run --rm --network=none "$REG/test/python:1" python3 -c "$PY" 2>&1) \
    || { echo "$out"; fail "podman run from the additional image store"; }
[ "$out" = "hello from the store entered=yes /work/dir" ] || fail "podman run printed '$out'"
[ "$(registry_requests)" = "$before" ] || { tail -n 5 "$WORK/registry.log"; fail "podman run contacted the registry"; }
pass "podman runs $REG/test/python:1 by name from MNT/podmanStore, empty cache, entrypoint + ENV + WORKDIR, no registry request: $out ($(elapsed_ms "$t") ms)"
out=$(podman --storage-opt "additionalimagestore=$MNT/podmanStore" images --format '{{.Repository}}:{{.Tag}}' 2>&1 | sort | tr '\n' ' ')
[ "$out" = "$REG/test/python:1 $REG/test/python:2 " ] || fail "podman images lists '$out'"
pass "podman images lists both: $out"
podman system reset --force >/dev/null 2>&1
unmount_repo "$MNT"

# again: nothing changes, nothing is published
published=$(md5sum < "$OUT/.cvmfspublished")
revision() { "$BIN" verify "$OUT" --key "$WORK/keys/$FQRN.pub" 2>/dev/null | grep -o 'revision [0-9]*' | head -1; }
rev=$(revision)
snapshot() { find "$STAGING/podmanStore" -printf '%P %y %s %T@ %l\n' | sort | md5sum; }
stored=$(snapshot)
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert2.log" || { cat "$WORK/convert2.log"; fail "second conversion"; }
grep -q "nothing published" "$WORK/convert2.log" || { cat "$WORK/convert2.log"; fail "second run published"; }
[ "$(md5sum < "$OUT/.cvmfspublished")" = "$published" ] && [ "$(revision)" = "$rev" ] || fail "second run changed the manifest"
[ "$(snapshot)" = "$stored" ] || fail "second run touched the store"
pass "converting again changes nothing: still $rev, same signed manifest (so the same root hash), the store untouched"

# a fresh staging tree (upstream's random ids would differ): the same store bytes, the same root catalog
mv "$STAGING" "$WORK/staging-first"
rm -rf "$STAGING.work"
"${CONVERT[@]}" --skip-podman "$WORK/recipe.yaml" > "$WORK/convert3.log" || { cat "$WORK/convert3.log"; fail "conversion without the store"; }
[ ! -e "$STAGING/podmanStore" ] || fail "--skip-podman wrote a store"
rm -rf "$STAGING" "$STAGING.work"
"${CONVERT[@]}" --force-publish "$WORK/recipe.yaml" > "$WORK/convert4.log" || { cat "$WORK/convert4.log"; fail "conversion into a fresh staging tree"; }
diff -r --no-dereference "$WORK/staging-first/podmanStore" "$STAGING/podmanStore" || fail "a fresh conversion wrote a different store"
pass "--skip-podman writes no store; a conversion from scratch writes the same store, byte for byte"
echo "all podman store tests passed"
