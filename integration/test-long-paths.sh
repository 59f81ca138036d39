#!/bin/bash
# Long paths: a cache base of 150 characters and a repository name of 60 (the longest upstream
# allows) put the control socket CVMFS_CACHE_BASE/<fqrn>/cvmfs_io.<fqrn> far beyond the 107
# bytes a unix socket address holds; the mount still comes up, reads, and answers talk.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=$(python3 -c 'print("r" * 49 + ".test.local")')
[ ${#FQRN} = 60 ] || fail "the name is ${#FQRN} characters"
BASE="$WORK/c"
while [ ${#BASE} -lt 150 ]; do BASE="$BASE/deeper-cache-folder"; done
BASE=${BASE:0:150}
[ ${#BASE} = 150 ] || fail "the cache base is ${#BASE} characters"
mkdir -p "$WORK/src"
head -c 200000 /dev/urandom > "$WORK/src/blob"
"$BIN" publish "$WORK/src" "$WORK/www/cvmfs/$FQRN" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx A "$WORK/www"
write_config "$WORK/c.conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$BASE"
MNT="$WORK/cvmfs/$FQRN"
mount_repo "$FQRN" "$MNT" "$WORK/c.conf"
cmp -s "$WORK/src/blob" "$MNT/blob" || fail "blob differs"
socket=$(getfattr --absolute-names --only-values -n user.talk_socket "$MNT")
[ "$socket" = "$BASE/$FQRN/cvmfs_io.$FQRN" ] || fail "talk socket is $socket"
[ -S "$socket" ] || fail "no socket at $socket"
[ "$("$BIN" talk -p "$socket" revision)" = 1 ] || fail "talk revision: $("$BIN" talk -p "$socket" revision)"
"$BIN" talk -p "$socket" cache size | grep -q "MB" || fail "talk cache size: $("$BIN" talk -p "$socket" cache size)"
unmount_repo "$MNT"
pass "cache base of ${#BASE} and a ${#FQRN}-character name: mounted, read, talk answers on a ${#socket}-byte socket path"
