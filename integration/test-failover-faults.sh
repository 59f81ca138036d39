#!/bin/bash
# Faults nginx cannot fake, from integration/fault_server.py as the first host (nginx is the
# second), through a real mount: a flipped object is never served nor cached (re-fetched with
# no-cache, then taken from the second host, or EIO when every host has it wrong); a truncated
# body, a 503, a slow trickle and a hanging host fail over within the configured time-out while
# other reads keep working, and later files go straight to the good host; a proxy error
# (X-Squid-Error) moves to the next proxy, not the next host; CVMFS_HOST_RESET_AFTER returns to
# the first host; a corrupt object through squid is re-fetched with no-cache.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

FQRN=faults.test.local
SRC="$WORK/src"
mkdir -p "$SRC/dir"
for i in $(seq -w 1 16); do head -c $((30000 + 1000 * 10#$i)) /dev/urandom > "$SRC/dir/f$i"; done
REPO="$WORK/www/cvmfs/$FQRN"
"$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" > /dev/null
start_nginx GOOD "$WORK/www"
start_fault_server F "$WORK/www"
start_fault_server F2 "$WORK/www"
start_squid Q
GOOD_URL="http://127.0.0.1:$NGINX_PORT_GOOD/cvmfs/@fqrn@"
F_URL="http://127.0.0.1:$FAULT_PORT_F/cvmfs/@fqrn@"
F2_URL="http://127.0.0.1:$FAULT_PORT_F2/cvmfs/@fqrn@"
KEY="$WORK/keys/$FQRN.pub"
TIMEOUT=2
n=0

# obj FILE: the URL path of FILE's object (needs a mount); cached FILE: its path in the cache.
obj() { local h; h=$(xattr "$MNT/$1" hash); echo "/cvmfs/$FQRN/data/${h:0:2}/${h:2}"; }
cached() { local h; h=$(xattr "$MNT/$1" hash); echo "$CACHE/$FQRN/${h:0:2}/${h:2}"; }
requests() { grep -c "^GET $2 " "$1" || true; }   # requests LOG URLPATH
# try_mount NAME SERVER_URL EXTRA...: a fresh cache each time; sets MNT and CACHE.
try_mount() {
    local name=$1 url=$2
    shift 2
    n=$((n + 1))
    MNT="$WORK/cvmfs/$name" CACHE="$WORK/cache-$n"
    write_config "$WORK/$name.conf" "$FQRN" "$url" "$KEY" "$CACHE" \
        CVMFS_TIMEOUT=$TIMEOUT CVMFS_TIMEOUT_DIRECT=$TIMEOUT CVMFS_BACKOFF_INIT=1 CVMFS_BACKOFF_MAX=2 "$@"
    mount_repo "$FQRN" "$MNT" "$WORK/$name.conf"
}
reset_faults() { fault_mode "$FAULT_PORT_F" clear; fault_mode "$FAULT_PORT_F" normal; fault_mode "$FAULT_PORT_F2" clear; fault_mode "$FAULT_PORT_F2" normal; }

# 1. Flipped bytes on the first host: re-fetched with no-cache, then served from the second host.
try_mount flip "$F_URL;$GOOD_URL"
o=$(obj dir/f01)
fault_mode "$FAULT_PORT_F" flip "$o"
cmp -s "$SRC/dir/f01" "$MNT/dir/f01" || fail "flip: wrong content served"
[ "$(requests "$FAULT_LOG_F" "$o")" = 2 ] || fail "flip: wanted 2 requests to the first host, got $(requests "$FAULT_LOG_F" "$o")"
grep "GET $o " "$FAULT_LOG_F" | tail -1 | grep -qi "Pragma: no-cache" || fail "flip: the retry did not ask for no-cache"
grep -q "GET $o 200" "$NGINX_LOG_GOOD" || fail "flip: the second host was not asked"
cmp -s "$SRC/dir/f01" "$(cached dir/f01)" || fail "flip: the cached object is not the good one"
[ "$(xattr "$MNT" host)" = "${GOOD_URL/@fqrn@/$FQRN}" ] || fail "flip: host did not switch"
unmount_repo "$MNT"
pass "flipped object on host 1: re-fetched with no-cache, served and cached from host 2"

# 2. Every host flips it: EIO, nothing cached, the mount keeps working.
reset_faults
try_mount flip2 "$F_URL;$F2_URL"
o=$(obj dir/f02)
fault_mode "$FAULT_PORT_F" flip "$o"; fault_mode "$FAULT_PORT_F2" flip "$o"
if cat "$MNT/dir/f02" > /dev/null 2> "$WORK/flip2.err"; then fail "flip2: a corrupt object was served"; fi
grep -q "Input/output error" "$WORK/flip2.err" || fail "flip2: wanted EIO, got $(cat "$WORK/flip2.err")"
[ ! -e "$(cached dir/f02)" ] || fail "flip2: the corrupt object entered the cache"
[ -z "$(find "$CACHE" -name "$(basename "$o")*")" ] || fail "flip2: a copy of the corrupt object is in the cache: $(find "$CACHE" -name "$(basename "$o")*")"
cmp -s "$SRC/dir/f03" "$MNT/dir/f03" || fail "flip2: other files stopped reading"
unmount_repo "$MNT"
pass "object corrupt on every host: EIO, not cached, other files still read"

# 3. Truncated body and 503 on the first host.
reset_faults
try_mount trunc "$F_URL;$GOOD_URL"
o=$(obj dir/f03)
fault_mode "$FAULT_PORT_F" truncate "$o"
cmp -s "$SRC/dir/f03" "$MNT/dir/f03" || fail "truncate: wrong content"
[ "$(requests "$FAULT_LOG_F" "$o")" = 2 ] || fail "truncate: wanted 1 retry on host 1 (CVMFS_MAX_RETRIES=1), got $(requests "$FAULT_LOG_F" "$o") requests"
unmount_repo "$MNT"
reset_faults
try_mount e503 "$F_URL;$GOOD_URL" CVMFS_MAX_RETRIES=3
o=$(obj dir/f04)
fault_mode "$FAULT_PORT_F" 503 "$o"
cmp -s "$SRC/dir/f04" "$MNT/dir/f04" || fail "503: wrong content"
[ "$(requests "$FAULT_LOG_F" "$o")" = 1 ] || fail "503 is a host error, not retried: $(requests "$FAULT_LOG_F" "$o") requests"
unmount_repo "$MNT"
pass "truncated body retried once then host 2; 503 fails over to host 2 at once"

# 4. Hanging first host: fails over within the time-out, other reads go on meanwhile, and the
#    files after the first go straight to the good host.
reset_faults
try_mount hang "$F_URL;$GOOD_URL" CVMFS_MAX_RETRIES=0
cat "$MNT/dir/f16" > /dev/null      # cached before the hang
for i in $(seq -w 5 15); do stat "$MNT/dir/f$i" > /dev/null; done
fault_mode "$FAULT_PORT_F" hang
t0=$(date +%s%N)
( cmp -s "$SRC/dir/f05" "$MNT/dir/f05" && echo ok > "$WORK/hang.result" || echo bad > "$WORK/hang.result" ) &
reader=$!
sleep 0.5
t1=$(date +%s%N)
cmp -s "$SRC/dir/f16" "$MNT/dir/f16" || fail "hang: cached file wrong during the hang"
ls "$MNT/dir" > /dev/null
side=$(elapsed_ms "$t1")
[ "$side" -lt 1000 ] || fail "hang: a cached read took $side ms while another read hung"
wait $reader
first=$(elapsed_ms "$t0")
[ "$(cat "$WORK/hang.result")" = ok ] || fail "hang: wrong content after failover"
# libcurl checks the low-speed limit once a second, so a time-out fires at up to TIMEOUT + 1 s.
[ "$first" -lt $(( (TIMEOUT + 1) * 1000 + 500 )) ] || fail "hang: failover took $first ms, wanted < $(( (TIMEOUT + 1) * 1000 + 500 ))"
t2=$(date +%s%N)
for i in $(seq -w 6 15); do cmp -s "$SRC/dir/f$i" "$MNT/dir/f$i" || fail "hang: f$i"; done
rest=$(elapsed_ms "$t2")
[ "$rest" -lt 1000 ] || fail "hang: 10 later files took $rest ms (they should skip the hanging host)"
unmount_repo "$MNT"
pass "hanging host: first read failed over in $first ms (CVMFS_TIMEOUT_DIRECT=$TIMEOUT), a cached read meanwhile took $side ms, 10 later files $rest ms"

# 5. Slow trickle (100 B/s < CVMFS_LOW_SPEED_LIMIT 1024): a time-out, then host 2.
reset_faults
try_mount slow "$F_URL;$GOOD_URL" CVMFS_MAX_RETRIES=0
o=$(obj dir/f06)
fault_mode "$FAULT_PORT_F" slow "$o"
t0=$(date +%s%N)
cmp -s "$SRC/dir/f06" "$MNT/dir/f06" || fail "slow: wrong content"
ms=$(elapsed_ms "$t0")
[ "$ms" -lt $(( (TIMEOUT + 2) * 1000 )) ] || fail "slow: took $ms ms"
unmount_repo "$MNT"
pass "slow trickle below CVMFS_LOW_SPEED_LIMIT: failed over in $ms ms"

# 6. A proxy error (503 + X-Squid-Error) is the proxy's fault: next proxy group, same host.
reset_faults
fault_mode "$FAULT_PORT_F2" squid
try_mount pxerr "$GOOD_URL;$F_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$FAULT_PORT_F2;DIRECT"
cmp -s "$SRC/dir/f07" "$MNT/dir/f07" || fail "proxy error: wrong content"
[ "$(xattr "$MNT" proxy)" = DIRECT ] || fail "proxy error: user.proxy is $(xattr "$MNT" proxy)"
[ "$(xattr "$MNT" host)" = "${GOOD_URL/@fqrn@/$FQRN}" ] || fail "proxy error: the host switched to $(xattr "$MNT" host)"
grep -q "proxy=1" "$FAULT_LOG_F2" || fail "proxy error: the faulty proxy was never asked"
unmount_repo "$MNT"
pass "X-Squid-Error from the proxy: next proxy group (DIRECT), host unchanged"

# 7. CVMFS_HOST_RESET_AFTER: back to host 1 once it has been away long enough.
reset_faults
try_mount reset "$F_URL;$GOOD_URL" CVMFS_HOST_RESET_AFTER=2
fault_mode "$FAULT_PORT_F" 503
cmp -s "$SRC/dir/f08" "$MNT/dir/f08" || fail "reset: f08"
[ "$(xattr "$MNT" host)" = "${GOOD_URL/@fqrn@/$FQRN}" ] || fail "reset: no failover"
fault_mode "$FAULT_PORT_F" normal
sleep 2.5
o=$(obj dir/f09)
cmp -s "$SRC/dir/f09" "$MNT/dir/f09" || fail "reset: f09"
[ "$(requests "$FAULT_LOG_F" "$o")" = 1 ] || fail "reset: f09 did not come from host 1 after CVMFS_HOST_RESET_AFTER"
unmount_repo "$MNT"
pass "CVMFS_HOST_RESET_AFTER=2: the next read after 2.5 s went to host 1 again"

# 8. Corrupt object from host 1 through squid: squid caches it, our no-cache retry forces squid to
#    refetch (still bad), then host 2 through squid; only the good copy reaches our cache.
reset_faults
try_mount squidflip "$F_URL;$GOOD_URL" "CVMFS_HTTP_PROXY=http://127.0.0.1:$SQUID_PORT_Q"
o=$(obj dir/f10)
fault_mode "$FAULT_PORT_F" flip "$o"
cmp -s "$SRC/dir/f10" "$MNT/dir/f10" || fail "squid flip: wrong content"
[ "$(requests "$FAULT_LOG_F" "$o")" = 2 ] || fail "squid flip: squid should have asked host 1 twice, got $(requests "$FAULT_LOG_F" "$o")"
grep -q "GET $o 200" "$NGINX_LOG_GOOD" || fail "squid flip: host 2 not asked"
cmp -s "$SRC/dir/f10" "$(cached dir/f10)" || fail "squid flip: cached object is not the good one"
unmount_repo "$MNT"
pass "corrupt object via squid: no-cache refetch through squid, then host 2; good copy cached ($(grep -c "$(basename "$o")" "$SQUID_LOG_Q") squid log lines)"
