#!/bin/bash
# Garbage collection of images (docs/format/container-images.md §7) and the podman store's
# whiteouts, with the real podman, a loopback registry and nginx: python:1 and python:2 share
# their two lower layers, shell:1 deletes files of its lower layers (a whiteout, an opaque
# directory). podman runs shell:1 from MNT/podmanStore without the deleted files. python:2
# leaves the recipe: its removal is scheduled and a --gc within the grace period removes
# nothing; after it exactly python:2's own paths go, podman no longer lists it, the others
# still run (also after the publisher's gc), and converting again publishes nothing. Turning
# the store off removes podmanStore.
source "$(dirname "$0")/lib.sh"
source "$HERE/lib-containers.sh"
trap ctr_cleanup EXIT
ctr_install podman runc skopeo docker-registry || fail "cannot install podman, runc, skopeo, docker-registry"

FQRN=unpacked.test.local
OUT="$WORK/www/cvmfs/$FQRN"
STAGING="$WORK/staging"
GRACE=5
CONVERT=("$BIN" convert --output "$OUT" --keys "$WORK/keys" --staging "$STAGING" --insecure --quiet)
mkdir -p "$WORK/www/cvmfs"
python3 "$HERE/make-test-image.py" "$WORK/layout" python 1 >/dev/null
python3 "$HERE/make-test-image.py" "$WORK/layout" python2 2 >/dev/null
python3 "$HERE/make-test-image.py" "$WORK/layout" multilayer shell >/dev/null
start_registry "$(free_port)"
for t in 1 2; do skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:$t" "docker://$REG/test/python:$t" || fail "push python:$t"; done
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:shell" "docker://$REG/test/shell:1" || fail "push shell:1"
recipe() { printf 'version: 1\nuser: test\ncvmfs_repo: %s\ninput:\n' "$FQRN"; for i in "$@"; do printf '  - %s\n' "$REG/test/$i"; done; }
recipe python:1 python:2 shell:1 > "$WORK/recipe.yaml"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert1.log" || { cat "$WORK/convert1.log"; fail "conversion"; }

start_nginx A "$WORK/www"
conf="$WORK/client.conf"
MNT="$WORK/cvmfs/$FQRN"
ctr_podman_setup "$WORK/podman"
# mount_fresh N: the published repository, mounted with an empty cache (cache-N)
mount_fresh() {
    write_config "$conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache-$1"
    mount_repo "$FQRN" "$MNT" "$conf"
}
# done_with_mount: podman lets go of the store's layers, then the repository is unmounted
done_with_mount() { podman system reset --force >/dev/null 2>&1; unmount_repo "$MNT"; }
STORE_OPT=(--storage-opt "additionalimagestore=$MNT/podmanStore")
listed() { podman "${STORE_OPT[@]}" images --format '{{.Repository}}:{{.Tag}}' 2>&1 | sort | tr '\n' ' '; }
PY='import os; print(os.environ["GREETING"], os.getcwd())'
run_python() { podman "${STORE_OPT[@]}" run --rm --network=none "$REG/test/python:1" python3 -c "$PY" 2>&1; }

# whiteouts: what podman shows of shell:1 is what the flattened image holds
mount_fresh 1
# $1: the image's root, empty inside the container
SHOW='cd "$1/data" && echo data: * && cd "$1/opt/dir" && echo opt/dir: * &&
  for f in data/gone.txt opt/dir/old.txt data/.wh.gone.txt opt/dir/.wh..wh..opq; do [ -e "$1/$f" ] && echo "present: $f"; done; true'
show_shell() { podman "${STORE_OPT[@]}" run --rm --network=none "$REG/test/shell:1" /bin/sh -c "$SHOW" sh "" 2>&1; }
out=$(show_shell) || { echo "$out"; fail "podman run shell:1"; }
want=$(/bin/sh -c "$SHOW" sh "$MNT/$REG/test/shell:1")
[ "$out" = "$want" ] && [[ "$out" != *present:* ]] || fail "podman shows '$out', the flat image '$want'"
pass "podman run of shell:1 from MNT/podmanStore: the whiteout and the opaque directory hide the lower layers' files (${out//$'\n'/; })"
[ "$(listed)" = "$REG/test/python:1 $REG/test/python:2 $REG/test/shell:1 " ] || fail "podman images lists '$(listed)'"
done_with_mount

# python:2 leaves the recipe; within the grace period --gc removes nothing
listing() { (cd "$STAGING" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort); }
listing > "$WORK/before.txt"
id2=$(basename "$(readlink "$STAGING/$REG/test/python:2")")
top=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][-1]["digest"].split(":")[1])' "$STAGING/.metadata/$REG/test/python:2/manifest.json")
store_top=$(python3 -c 'import json,sys; print([l["id"] for l in json.load(open(sys.argv[1])) if l["compressed-diff-digest"] == "sha256:" + sys.argv[2]][0])' \
    "$STAGING/podmanStore/overlay-layers/layers.json" "$top")
link=$(cat "$STAGING/podmanStore/overlay/$store_top/link")
recipe python:1 shell:1 > "$WORK/recipe.yaml"
"${CONVERT[@]}" --gc --grace "${GRACE}s" "$WORK/recipe.yaml" > "$WORK/convert2.log" || { cat "$WORK/convert2.log"; fail "conversion without python:2"; }
grep -q "removal scheduled: $REG/test/python:2 (image ${id2:0:12}): no longer in the recipe" "$WORK/convert2.log" || { cat "$WORK/convert2.log"; fail "no removal scheduled"; }
grep -q "gc: nothing is due" "$WORK/convert2.log" && grep -q "^published" "$WORK/convert2.log" || { cat "$WORK/convert2.log"; fail "the schedule was not published, or gc removed something"; }
listing > "$WORK/scheduled.txt"
[ "$(comm -3 "$WORK/before.txt" "$WORK/scheduled.txt")" = $'\t.metadata/remove-schedule.json' ] \
    || fail "within the grace period the tree changed: $(comm -3 "$WORK/before.txt" "$WORK/scheduled.txt")"
"${CONVERT[@]}" --gc --grace "${GRACE}s" --dry-run "$WORK/recipe.yaml" | grep -q "nothing is due" || fail "the dry run lists removals within the grace period"
pass "python:2 left the recipe: its removal is scheduled in .metadata/remove-schedule.json and published; --gc --grace ${GRACE}s removes nothing yet"

# after the grace period: exactly python:2's own paths go
sleep $((GRACE + 1))
"${CONVERT[@]}" --gc --grace "${GRACE}s" --dry-run "$WORK/recipe.yaml" > "$WORK/dry.log"
grep -q "^  .flat/${id2:0:2}/$id2$" "$WORK/dry.log" || { cat "$WORK/dry.log"; fail "the dry run does not list the flat root"; }
[ "$(listing)" = "$(cat "$WORK/scheduled.txt")" ] || fail "the dry run changed the tree"
"${CONVERT[@]}" --gc --grace "${GRACE}s" "$WORK/recipe.yaml" > "$WORK/convert3.log" || { cat "$WORK/convert3.log"; fail "gc after the grace period"; }
listing > "$WORK/after.txt"
comm -13 "$WORK/scheduled.txt" "$WORK/after.txt" > "$WORK/added.txt"
[ ! -s "$WORK/added.txt" ] || fail "gc added paths: $(cat "$WORK/added.txt")"
comm -23 "$WORK/scheduled.txt" "$WORK/after.txt" > "$WORK/gone.txt"
own="^($REG/test/python:2|\.metadata/$REG/test/python:2(/manifest\.json)?|\.metadata/remove-schedule\.json"
own+="|\.flat/${id2:0:2}(/$id2(/.*)?)?|\.layers/${top:0:2}(/\.cvmfscatalog|/$top(/.*)?)?"
own+="|podmanStore/overlay-images/$id2(/.*)?|podmanStore/overlay/$store_top(/.*)?|podmanStore/overlay/l/$link)$"
others=$(grep -Ev "$own" "$WORK/gone.txt" || true)
[ -z "$others" ] || fail "gc removed paths that are not python:2's own: $others"
for p in "$REG/test/python:2" ".flat/${id2:0:2}/$id2" ".layers/${top:0:2}/$top/layerfs" "podmanStore/overlay-images/$id2" "podmanStore/overlay/$store_top" "podmanStore/overlay/l/$link"; do
    grep -qx "$p" "$WORK/gone.txt" || fail "gc left $p"
done
n=$(ls -d "$STAGING"/.layers/??/*/layerfs | wc -l)
[ "$n" = 6 ] || fail ".layers holds $n layer copies, want python:1's 2 (shared with python:2) and shell:1's 4"
grep -q "^published" "$WORK/convert3.log" || { cat "$WORK/convert3.log"; fail "gc did not publish"; }
pass "after ${GRACE}s: --gc removed exactly python:2's $(wc -l < "$WORK/gone.txt") own paths (name, manifest, .flat root, top layer, store image, store layer and link); the shared base layers stay"

mount_fresh 2
[ ! -e "$MNT/$REG/test/python:2" ] && [ ! -e "$MNT/.flat/${id2:0:2}/$id2" ] || fail "the mounted repository still has python:2"
[ "$(listed)" = "$REG/test/python:1 $REG/test/shell:1 " ] || fail "podman images lists '$(listed)'"
out=$(run_python) || { echo "$out"; fail "podman run python:1 after gc"; }
[ "$out" = "hello from the store /work/dir" ] || fail "python:1 printed '$out'"
pass "podman lists only python:1 and shell:1, and python:1 runs: $out"
done_with_mount

# the publisher's gc frees the objects; what remains still runs
"$BIN" gc "$OUT" --name "$FQRN" --keys "$WORK/keys" --keep-revisions 1 > "$WORK/gc.log" || { cat "$WORK/gc.log"; fail "cvmfs-swift gc"; }
removed=$(grep -o 'removed [0-9]* objects' "$WORK/gc.log" | grep -o '[0-9]*')
[ "${removed:-0}" -gt 0 ] || fail "the publisher's gc freed nothing: $(cat "$WORK/gc.log")"
mount_fresh 3
out=$(run_python) || { echo "$out"; fail "podman run python:1 after the publisher's gc"; }
out2=$(show_shell) || { echo "$out2"; fail "shell:1 after the publisher's gc"; }
[ "$out2" = "$want" ] || fail "shell:1 shows '$out2' after the publisher's gc"
pass "cvmfs-swift gc freed $removed objects; python:1 and shell:1 still run from an empty cache"
done_with_mount

# again: nothing changes, nothing is published
published=$(md5sum < "$OUT/.cvmfspublished")
"${CONVERT[@]}" --gc --grace "${GRACE}s" "$WORK/recipe.yaml" > "$WORK/convert4.log" || { cat "$WORK/convert4.log"; fail "conversion after gc"; }
grep -q "nothing published" "$WORK/convert4.log" && grep -q "gc: nothing is due" "$WORK/convert4.log" || { cat "$WORK/convert4.log"; fail "the run after gc did something"; }
[ "$(md5sum < "$OUT/.cvmfspublished")" = "$published" ] && [ "$(listing)" = "$(cat "$WORK/after.txt")" ] || fail "the run after gc changed the repository"
pass "converting again after gc changes nothing and publishes nothing"

# the store turned off: podmanStore goes, in the staging tree and in the published repository
"${CONVERT[@]}" --skip-podman "$WORK/recipe.yaml" > "$WORK/convert5.log" || { cat "$WORK/convert5.log"; fail "conversion with the store off"; }
grep -q "removed podmanStore" "$WORK/convert5.log" && grep -q "^published" "$WORK/convert5.log" || { cat "$WORK/convert5.log"; fail "turning the store off did not remove and publish"; }
[ ! -e "$STAGING/podmanStore" ] || fail "podmanStore is still in the staging tree"
mount_fresh 4
[ ! -e "$MNT/podmanStore" ] && [ -L "$MNT/$REG/test/python:1" ] || fail "the published repository still has podmanStore, or lost python:1"
unmount_repo "$MNT"
pass "--skip-podman on a repository with a store removes podmanStore and publishes"
echo "all image gc tests passed"
