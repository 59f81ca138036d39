#!/bin/bash
# CVMFS_HTTP_PROXY="auto;DIRECT" with a PAC file served by nginx: the PAC file sends the
# Stratum 1 to squid A (and another host to squid B), so every read goes through squid A and
# none through B; with the PAC server down a new node goes DIRECT, and a node that discovered
# before keeps its remembered proxies; a PAC file that is not JavaScript, or whose answer names
# no usable proxy, is named in the refusal when nothing but `auto` is configured.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=pac.test.local
SRC="$WORK/src"
mkdir -p "$SRC"
for i in 1 2 3; do head -c $((150000 * i)) /dev/urandom > "$SRC/f$i"; done
REPO="$WORK/www/cvmfs/$FQRN"
"$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx S1 "$WORK/www"
start_squid A
start_squid B
mkdir -p "$WORK/pac"
cat > "$WORK/pac/wpad.dat" <<PAC
function FindProxyForURL(url, host) {
  if (shExpMatch(url, "http://127.0.0.1:$NGINX_PORT_S1/*")) return "PROXY 127.0.0.1:$SQUID_PORT_A; DIRECT";
  if (dnsDomainIs(host, ".other.example.org")) return "PROXY 127.0.0.1:$SQUID_PORT_B";
  return "DIRECT";
}
PAC
echo 'proxy = squid:3128 {' > "$WORK/www/broken.pac"
echo 'function FindProxyForURL(url, host) { return "SOCKS 127.0.0.1:1080"; }' > "$WORK/www/socks.pac"
start_nginx PAC "$WORK/pac"
PAC_URL="http://127.0.0.1:$NGINX_PORT_PAC/wpad.dat"
S1="http://127.0.0.1:$NGINX_PORT_S1/cvmfs/@fqrn@"
KEY="$WORK/keys/$FQRN.pub"
# A site's http_proxy would win over the PAC file (as upstream has it); these mounts must not see one.
mount_auto() { env -u http_proxy "$BIN" mount "$FQRN" "$2" -o "config=$1"; MOUNTS+=("$2"); PIDS+=("$(xattr "$2" pid)"); }

# 1. Discovery through the PAC file: all reads through squid A, none through B.
write_config "$WORK/c1.conf" "$FQRN" "$S1" "$KEY" "$WORK/cache1" "CVMFS_HTTP_PROXY=auto;DIRECT" "CVMFS_PAC_URLS=$PAC_URL"
MNT="$WORK/cvmfs/c1"
mkdir -p "$MNT"
mount_auto "$WORK/c1.conf" "$MNT"
for i in 1 2 3; do cmp -s "$SRC/f$i" "$MNT/f$i" || fail "auto: f$i differs"; done
[ "$(xattr "$MNT" proxy)" = "http://127.0.0.1:$SQUID_PORT_A" ] || fail "auto: user.proxy is $(xattr "$MNT" proxy)"
info=$("$BIN" talk -p "$(xattr "$MNT" talk_socket)" proxy info)
grep -q "\[0\] http://127.0.0.1:$SQUID_PORT_A" <<< "$info" || fail "auto: proxy info: $info"
h=$(xattr "$MNT/f3" hash)
unmount_repo "$MNT"
for _ in $(seq 20); do grep -q "data/${h:0:2}/${h:2}" "$SQUID_LOG_A" && break; sleep 0.1; done
grep -q "/cvmfs/$FQRN/.cvmfspublished" "$SQUID_LOG_A" || fail "auto: the manifest did not go through squid A"
grep -q "data/${h:0:2}/${h:2}" "$SQUID_LOG_A" || fail "auto: f3's object did not go through squid A"
# (start_squid's readiness probe leaves one line for 127.0.0.1:1 in each log.)
! grep -q "/cvmfs/$FQRN/" "$SQUID_LOG_B" || fail "auto: squid B was used: $(cat "$SQUID_LOG_B")"
grep -q "using 127.0.0.1:$SQUID_PORT_A;DIRECT from PAC file $PAC_URL" "$WORK/$FQRN.debug.log" || fail "auto: the log does not name the PAC file"
pass "auto;DIRECT: the PAC file sent every read through squid A ($(grep -c "/cvmfs/$FQRN/" "$SQUID_LOG_A") requests), none through squid B"

# 2. The PAC server is down: a new node (empty cache) goes DIRECT; the first node keeps its
#    remembered proxies.
kill "$(cat "$WORK/nginx-PAC/nginx.pid")"
for _ in $(seq 50); do curl -s -o /dev/null "$PAC_URL" || break; sleep 0.1; done
before=$(wc -l < "$SQUID_LOG_A")
write_config "$WORK/c2.conf" "$FQRN" "$S1" "$KEY" "$WORK/cache2" "CVMFS_HTTP_PROXY=auto;DIRECT" "CVMFS_PAC_URLS=$PAC_URL"
MNT="$WORK/cvmfs/c2"
mkdir -p "$MNT"
mount_auto "$WORK/c2.conf" "$MNT"
for i in 1 2 3; do cmp -s "$SRC/f$i" "$MNT/f$i" || fail "PAC down: f$i differs"; done
[ "$(xattr "$MNT" proxy)" = DIRECT ] || fail "PAC down: user.proxy is $(xattr "$MNT" proxy)"
unmount_repo "$MNT"
sleep 0.3
[ "$(wc -l < "$SQUID_LOG_A")" = "$before" ] || fail "PAC down: squid A was still used"
grep -q "auto: PAC file $PAC_URL: cannot download it" "$WORK/$FQRN.debug.log" || fail "PAC down: the log does not say why"
pass "PAC server down: a new node reads DIRECT, the log names the PAC file that could not be fetched"
MNT="$WORK/cvmfs/c1"
mount_auto "$WORK/c1.conf" "$MNT"
[ "$(xattr "$MNT" proxy)" = "http://127.0.0.1:$SQUID_PORT_A" ] || fail "remembered: user.proxy is $(xattr "$MNT" proxy)"
unmount_repo "$MNT"
pass "PAC server down: the node that discovered before keeps its remembered proxies"

# 3. Bad PAC files with nothing but `auto`: refused, naming the file and the reason.
for bad in broken socks; do
    write_config "$WORK/bad.conf" "$FQRN" "$S1" "$KEY" "$WORK/cache-$bad" "CVMFS_HTTP_PROXY=auto" \
        "CVMFS_PAC_URLS=http://127.0.0.1:$NGINX_PORT_S1/$bad.pac"
    MNT="$WORK/cvmfs/$bad"
    mkdir -p "$MNT"
    if env -u http_proxy "$BIN" mount "$FQRN" "$MNT" -o "config=$WORK/bad.conf" 2> "$WORK/$bad.err"; then
        MOUNTS+=("$MNT")
        fail "$bad.pac: mounted"
    fi
    case $bad in
        broken) want="$bad.pac: not a valid PAC script" ;;
        socks) want="answered \"SOCKS 127.0.0.1:1080\", which names no usable proxy" ;;
    esac
    grep -qF "$want" "$WORK/$bad.err" || fail "$bad.pac: message: $(cat "$WORK/$bad.err")"
    pass "CVMFS_HTTP_PROXY=auto with $bad.pac refused: $(head -c 200 "$WORK/$bad.err")"
done
