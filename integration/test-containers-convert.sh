#!/bin/bash
# `cvmfs-swift convert`: a multi-layer test image (deleted file, replaced directory, symlink,
# hard link across layers) converted from a loopback docker-registry (OCI and Docker v2s2
# manifests) and from an OCI layout gives the same root file system as `umoci unpack`, also
# through a FUSE mount of the published repository; a second run publishes nothing; a new tag
# appears; a moved tag is republished; bad input fails clearly and leaves the repository alone.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { apt-get install -y umoci skopeo docker-registry >/dev/null 2>&1 || true; }; }
need umoci; need skopeo; need docker-registry
for t in umoci skopeo docker-registry; do command -v $t >/dev/null || fail "$t is not installed"; done

MAKE="python3 $HERE/make-test-image.py"
FQRN=unpacked.test.local
OUT="$WORK/www/cvmfs/$FQRN"
STAGING="$WORK/staging"
CONVERT=("$BIN" convert --output "$OUT" --keys "$WORK/keys" --staging "$STAGING" --insecure --quiet)
mkdir -p "$WORK/www/cvmfs"

$MAKE "$WORK/layout" multilayer 1 >/dev/null
$MAKE "$WORK/layout" multilayer2 2 >/dev/null
for v in dotdot absolute symlink; do $MAKE "$WORK/bad-$v" "$v" 1 >/dev/null; done

# loopback registry
start_registry "$(free_port)"
push() { skopeo copy -q --dest-tls-verify=false "$@"; }
push "oci:$WORK/layout:1" "docker://$REG/test/multilayer:1"
push --format v2s2 "oci:$WORK/layout:1" "docker://$REG/test/multilayer:v2s2"

# reference: umoci unpack of the same image. The converter adds the Apptainer files of DUCC's
# flat images (docs/format/container-images.md §3) where missing: compared without those names.
APPTAINER_NAMES='^(\.singularity\.d(/[^\t]*)?|singularity|\.run|\.exec|\.shell|\.test|environment|dev|proc|root|var|var/tmp|tmp|sys|home|etc/hosts|etc/resolv\.conf)\t'
listing() { python3 "$LISTING" --skip .cvmfscatalog "$1" | grep -Pv "$APPTAINER_NAMES" || true; }
umoci unpack --image "$WORK/layout:1" "$WORK/umoci1" >/dev/null 2>&1 || fail "umoci unpack"
listing "$WORK/umoci1/rootfs" > "$WORK/want1.tsv"

recipe() { { echo "version: 1"; echo "user: test"; echo "cvmfs_repo: '$FQRN'"; echo "input:"; for i in "$@"; do echo "  - '$i'"; done; } > "$WORK/recipe.yaml"; }
revision() { "$BIN" verify "$OUT" --key "$WORK/keys/$FQRN.pub" 2>/dev/null | grep -o 'revision [0-9]*' | head -1; }
published_sum() { md5sum < "$OUT/.cvmfspublished"; }

recipe "$REG/test/multilayer:1" "$REG/test/multilayer:v2s2" "oci:$WORK/layout:1 as localhost/layout/multilayer:1"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert1.log" || { cat "$WORK/convert1.log"; fail "first conversion"; }
for name in "$REG/test/multilayer:1" "$REG/test/multilayer:v2s2" "localhost/layout/multilayer:1"; do
    [ -L "$STAGING/$name" ] || fail "$name: public symlink missing"
    listing "$STAGING/$name/" > "$WORK/got.tsv"
    diff "$WORK/want1.tsv" "$WORK/got.tsv" || fail "$name: root file system differs from umoci unpack"
done
target=$(readlink "$STAGING/$REG/test/multilayer:1")
[[ "$target" == ../../.flat/??/* ]] || fail "symlink target $target is not ../../.flat/xx/<id>"
id=${target##*/}
[ -f "$STAGING/.flat/${id:0:2}/$id/.cvmfscatalog" ] || fail "flat image is not a nested catalog"
[ -f "$STAGING/.metadata/$REG/test/multilayer:1/manifest.json" ] || fail ".metadata manifest"
n_layers=$(ls -d "$STAGING"/.layers/??/*/layerfs | wc -l)
[ "$n_layers" -ge 4 ] || fail ".layers holds $n_layers layerfs"
grep -q "$REG/test/multilayer:1" "$STAGING"/.layers/??/*/.metadata/origin.json || fail "origin.json"
# layer 1 adds data/gone.txt, layer 2 deletes it: in its copy an overlay whiteout, a character device 0/0
stat -c '%F %t:%T' "$STAGING"/.layers/??/*/layerfs/data/gone.txt | grep -qx "character special file 0:0" \
    || fail "no layerfs holds an overlay whiteout (character device 0/0) for data/.wh.gone.txt"
pass "registry (OCI, v2s2) and OCI layout conversions equal umoci unpack ($(wc -l < "$WORK/want1.tsv") entries)"

# the published repository, mounted
start_nginx A "$WORK/www"
conf="$WORK/client.conf"
write_config "$conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
MNT="$WORK/cvmfs/$FQRN"
mount_repo "$FQRN" "$MNT" "$conf"
listing "$MNT/$REG/test/multilayer:1/" > "$WORK/mounted.tsv"
diff "$WORK/want1.tsv" "$WORK/mounted.tsv" || fail "mounted image differs from umoci unpack"
unmount_repo "$MNT"
pass "mounted repository shows the image as umoci unpacks it"

# same recipe again: nothing new
before=$(published_sum)
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert2.log" || fail "second conversion"
grep -q "nothing published" "$WORK/convert2.log" || { cat "$WORK/convert2.log"; fail "second run published"; }
[ "$(published_sum)" = "$before" ] || fail "second run changed the manifest"
pass "re-running the recipe publishes nothing"

# a new tag, found by a wildcard
push "oci:$WORK/layout:2" "docker://$REG/test/multilayer:2"
recipe "$REG/test/multilayer:*"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert3.log" || { cat "$WORK/convert3.log"; fail "wildcard conversion"; }
grep -q "new: $REG/test/multilayer:2" "$WORK/convert3.log" || { cat "$WORK/convert3.log"; fail "tag 2 not converted"; }
grep -q "revision 2" "$WORK/convert3.log" || fail "tag 2: not revision 2"
[ "$(cat "$STAGING/$REG/test/multilayer:2/new/file")" = "tag two" ] || fail "tag 2 content"
pass "a pushed new tag appears after conversion (revision 2)"

# tag 1 moved to the new image: republished
push "oci:$WORK/layout:2" "docker://$REG/test/multilayer:1"
recipe "$REG/test/multilayer:1"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert4.log" || fail "moved tag conversion"
[ "$(readlink "$STAGING/$REG/test/multilayer:1")" = "$(readlink "$STAGING/$REG/test/multilayer:2")" ] || fail "moved tag: symlink not updated"
grep -q "revision 3" "$WORK/convert4.log" || fail "moved tag: not revision 3"
pass "a moved tag is republished"

# start-up profiles from the recipe (docs/profiles.md): stored in the image's flat root
with_profile() { recipe "$REG/test/multilayer:1"; { echo "profiles:"; echo "  '$REG/test/multilayer:1': $1"; } >> "$WORK/recipe.yaml"; }
mount_repo "$FQRN" "$MNT" "$conf"
"$BIN" profile record "$MNT/$REG/test/multilayer:1" --output "$WORK/start.profile" --seconds 60 2> "$WORK/record.err" &
rec=$!
sleep 0.5
cat "$MNT/$REG/test/multilayer:1/new/file" "$MNT/$REG/test/multilayer:1/etc/version" > /dev/null
kill -INT $rec; wait $rec || fail "profile record: $(cat "$WORK/record.err")"
unmount_repo "$MNT"
[ "$(grep -v '^#' "$WORK/start.profile" | tr '\n' ' ')" = "new/file etc/version " ] || fail "recorded profile: $(cat "$WORK/start.profile")"
with_profile start.profile
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert-profile1.log" || { cat "$WORK/convert-profile1.log"; fail "conversion with a profile"; }
grep -q "start-up profile added (2 items)" "$WORK/convert-profile1.log" || { cat "$WORK/convert-profile1.log"; fail "profile not reported"; }
grep -q "revision 4" "$WORK/convert-profile1.log" || fail "profile: not revision 4"
flat="$STAGING/$(readlink "$STAGING/$REG/test/multilayer:1" | sed 's|^\(\.\./\)*||')"
cmp -s "$WORK/start.profile" "$flat/.cvmfsprofile" || fail "staged profile differs from the recipe's file"
before=$(published_sum)
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert-profile2.log" || fail "profile: second conversion"
[ "$(published_sum)" = "$before" ] || { cat "$WORK/convert-profile2.log"; fail "an unchanged profile was republished"; }
mount_repo "$FQRN" "$MNT" "$conf"
cmp -s "$WORK/start.profile" "$MNT/$REG/test/multilayer:1/.cvmfsprofile" || fail "mounted .cvmfsprofile differs"
unmount_repo "$MNT"; rm -rf "$WORK/cache"; mount_repo "$FQRN" "$MNT" "$conf"
[ "$(cat "$MNT/$REG/test/multilayer:1/new/file")" = "tag two" ] || fail "profiled image content"
talk() { "$BIN" talk -p "$(getfattr --absolute-names --only-values -n user.talk_socket "$MNT")" "$@"; }
for _ in $(seq 50); do talk profile info | grep -q '^profiles.runs: [1-9]' && break; sleep 0.1; done
talk profile info | grep -q '^profiles.runs: 1$' || fail "no profile run on a cold mount: $(talk profile info)"
talk profile info | grep -q '^profiles.failed: 0$' || fail "profile items failed: $(talk profile info)"
unmount_repo "$MNT"
pass "a profile recorded on the mounted image, given in the recipe, is stored in the flat root, mounts as .cvmfsprofile and runs on a cold mount; unchanged, it publishes nothing"
printf '# cvmfs-swift start-up profile 1\netc/version\n' > "$WORK/start.profile"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert-profile3.log" || fail "changed profile conversion"
grep -q "start-up profile replaced (1 items)" "$WORK/convert-profile3.log" && grep -q "revision 5" "$WORK/convert-profile3.log" \
    || { cat "$WORK/convert-profile3.log"; fail "changed profile not republished"; }
printf 'not a profile\n' > "$WORK/bad.profile"
with_profile bad.profile
before=$(published_sum)
if "${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/bad.log" 2>&1; then fail "a bad profile was accepted"; fi
grep -q "bad.profile for $REG/test/multilayer:1: not a usable start-up profile" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "bad profile message"; }
[ "$(published_sum)" = "$before" ] || fail "a bad profile changed the repository"
recipe "$REG/test/multilayer:1"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert-profile4.log" || fail "profile removal conversion"
grep -q "start-up profile removed" "$WORK/convert-profile4.log" && grep -q "revision 6" "$WORK/convert-profile4.log" \
    || { cat "$WORK/convert-profile4.log"; fail "removed profile not republished"; }
[ ! -e "$flat/.cvmfsprofile" ] || fail "removed profile still staged"
pass "a changed profile is republished, a bad one refused (repository unchanged), a dropped one removed"

# bad input: clear errors, repository unchanged
expect_failure() {
    local what=$1 pattern=$2
    shift 2
    local before
    before=$(published_sum)
    recipe "$@"
    if "${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/bad.log" 2>&1; then fail "$what: conversion succeeded"; fi
    grep -q -- "$pattern" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "$what: message lacks '$pattern'"; }
    [ "$(published_sum)" = "$before" ] || fail "$what: repository changed"
    [ -z "$(ls "$STAGING.work/new" 2>/dev/null)" ] || fail "$what: leftovers in the work tree"
    pass "$what: $(grep -o 'convert failed: .*' "$WORK/bad.log" | cut -c1-140)"
}
expect_failure "unreachable registry" "cannot reach" "127.0.0.1:1/test/multilayer:1"
expect_failure "missing tag" "not found" "$REG/test/multilayer:nope"
expect_failure "wildcard without match" "no tag" "$REG/test/multilayer:zz*"
expect_failure "'../' entry" "leaves the root" "oci:$WORK/bad-dotdot:1 as localhost/bad/dotdot:1"
expect_failure "absolute entry" "absolute path" "oci:$WORK/bad-absolute:1 as localhost/bad/absolute:1"
expect_failure "entry through a symlink" "symbolic link that leads outside" "oci:$WORK/bad-symlink:1 as localhost/bad/symlink:1"
[ ! -e /tmp/evil ] && [ ! -e "$WORK/evil" ] || fail "an unsafe entry was written"
# a layer whose bytes do not match its digest (corrupted in the registry's storage), of an image
# not converted before (the layers of converted images are not downloaded again)
$MAKE "$WORK/bulky" bulky 1 >/dev/null
push "oci:$WORK/bulky:1" "docker://$REG/test/corrupt:1"
layer=$(python3 -c "import json,sys; m=json.load(open('$WORK/bulky/index.json'))['manifests'][0]['digest'].split(':')[1]; print(json.load(open('$WORK/bulky/blobs/sha256/'+m))['layers'][1]['digest'].split(':')[1])")
blob="$WORK/registry/docker/registry/v2/blobs/sha256/${layer:0:2}/$layer/data"
[ -f "$blob" ] || fail "registry blob $blob"
printf 'corrupt' >> "$blob"
expect_failure "layer digest mismatch" "digest mismatch for layer 2/4 sha256:$layer of $REG/test/corrupt:1" "$REG/test/corrupt:1"
[ ! -e "$STAGING.work/blobs/$layer" ] && [ ! -e "$STAGING.work/layers/$layer" ] && [ ! -e "$STAGING/.layers/${layer:0:2}/$layer" ] \
    || fail "the corrupt layer left a blob or a layer copy behind"

# a `docker save`-style archive
skopeo copy -q "oci:$WORK/layout:1" "docker-archive:$WORK/saved.tar:localhost/saved/multilayer:1"
recipe "docker-archive:$WORK/saved.tar"
"${CONVERT[@]}" "$WORK/recipe.yaml" > "$WORK/convert5.log" || { cat "$WORK/convert5.log"; fail "docker archive conversion"; }
listing "$STAGING/localhost/saved/multilayer:1/" > "$WORK/got.tsv"
diff "$WORK/want1.tsv" "$WORK/got.tsv" || fail "docker archive: root file system differs from umoci unpack"
pass "docker archive conversion equals umoci unpack"
echo "all convert tests passed"
