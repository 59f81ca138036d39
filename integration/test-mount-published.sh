#!/bin/bash
# Repositories written by our publisher, with each hash algorithm and without
# compression, mount and show exactly the source tree.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

SRC="$WORK/src"
bash "$FIXTURE/make-content.sh" "$SRC" > /dev/null
python3 "$LISTING" --expand CVMFS_FIXTURE_ARCH=x86_64 "$SRC" \
    | sed 's#/cvmfs/small.cvmfs.local/#/cvmfs/FQRN/#' > "$WORK/source.tsv"
mkdir -p "$WORK/www/cvmfs"
start_nginx A "$WORK/www"

for variant in sha1 rmd160 shake128 sha1-uncompressed; do
    fqrn="$variant.test.local"
    hash=${variant%-uncompressed}
    extra=()
    [ "$variant" = sha1-uncompressed ] && extra=(--no-compression)
    "$BIN" publish "$SRC" "$WORK/www/cvmfs/$fqrn" --name "$fqrn" --keys "$WORK/keys" --hash "$hash" \
        --chunk-min 262144 --chunk-avg 524288 --chunk-max 1048576 "${extra[@]}" > /dev/null
    conf="$WORK/$fqrn.conf"
    write_config "$conf" "$fqrn" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$fqrn.pub" "$WORK/cache" \
        CVMFS_FIXTURE_ARCH=x86_64
    mnt="$WORK/cvmfs/$fqrn"
    mount_repo "$fqrn" "$mnt" "$conf"
    # The absolute symlink in the tree names the fixture's repository; compare with that rewritten.
    python3 "$LISTING" "$mnt" | sed "s#/cvmfs/small.cvmfs.local/#/cvmfs/FQRN/#" > "$WORK/$fqrn.tsv"
    diff "$WORK/source.tsv" "$WORK/$fqrn.tsv" || fail "$variant: mounted listing differs from the source"
    if [ "$variant" = sha1-uncompressed ]; then
        [ "$(getfattr --absolute-names --only-values -n user.compression "$mnt/hello.txt")" = none ] || fail "user.compression none"
    fi
    [[ "$(getfattr --absolute-names --only-values -n user.hash "$mnt/hello.txt")" == *"${hash/sha1/}" ]] || fail "$variant: user.hash algorithm suffix"
    unmount_repo "$mnt"
    pass "$variant: mounted listing equals the source ($(wc -l < "$WORK/$fqrn.tsv") entries)"
done
