#!/bin/bash
# The soak: weeks of publishing in MINUTES minutes.
#
#   integration/soak.sh MINUTES      (scripts/test.sh runs it for 2 minutes; README has 30)
#
# Our publisher writes a new revision every SOAK_PERIOD seconds (5): files added, changed and
# removed, and every fourth revision a nested catalog made or dropped (integration/soak.py
# mutate). nginx serves it to two mounts of the repository: A with a private cache, B on a
# shared cache. SOAK_READERS (8) readers, half on each, read files without pause and check
# every byte against the revisions mounted while the file was open (soak.py read). Now and
# then a reader is killed with SIGKILL and replaced, A is told `talk remount sync`, and B is
# unmounted and mounted again. At the end: no wrong byte, no unexpected error, and mount A's
# RSS, open descriptors, threads, cache size and open catalogs (over all revisions) compared
# with the same figures at the checkpoint (5 minutes in, or half-way in a shorter run):
# descriptors and catalogs within 10 % (+2), RSS within 10 % (+4 MiB in a run under 10
# minutes), threads at most 24 (16 FUSE workers kept once started, and the rest), the cache
# under its quota, no pinned catalog that the mounted revision does not use. The cache is a
# sawtooth by design (a cleanup frees it down to half the quota), so it is held to the quota,
# not to the checkpoint. Prints a table.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

MINUTES=${1:-2}
[[ $MINUTES =~ ^[0-9]+$ ]] && [ "$MINUTES" -ge 1 ] || fail "usage: $0 MINUTES"
PERIOD=${SOAK_PERIOD:-5}
READERS=${SOAK_READERS:-8}
QUOTA_MB=${SOAK_QUOTA_MB:-24}
SOAK="$HERE/soak.py"
END=$(( $(date +%s) + MINUTES * 60 ))
CHECKPOINT=$(( $(date +%s) + (MINUTES >= 10 ? 300 : MINUTES * 30) ))

FQRN=soak.test.local
SRC="$WORK/src"
STATE="$WORK/state"
REPO="$WORK/www/cvmfs/$FQRN"
mkdir -p "$SRC" "$STATE"
revision=1
python3 "$SOAK" mutate "$SRC" "$STATE" 1
publish() {
    "$BIN" publish "$SRC" "$REPO" --name "$FQRN" --keys "$WORK/keys" --ttl 3 > "$WORK/publish.log" 2>&1 ||
        { cat "$WORK/publish.log" >&2; fail "publishing revision $revision failed"; }
}
publish
start_nginx A "$WORK/www"
URL="http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@"
write_config "$WORK/a.conf" "$FQRN" "$URL" "$WORK/keys/$FQRN.pub" "$WORK/cache-a"
write_config "$WORK/b.conf" "$FQRN" "$URL" "$WORK/keys/$FQRN.pub" "$WORK/cache-b" "CVMFS_SHARED_CACHE=yes"
sed -i "s|$WORK/$FQRN.debug.log|$WORK/b.debug.log|" "$WORK/b.conf"
MNT_A="$WORK/mnt/a"
MNT_B="$WORK/mnt/b"
mount_repo "$FQRN" "$MNT_A" "$WORK/a.conf"
mount_repo "$FQRN" "$MNT_B" "$WORK/b.conf"
talk_a() { "$BIN" talk -i "$FQRN" --config "$WORK/a.conf" "$@"; }
PID_A=$(xattr "$MNT_A" pid)

declare -A reader_pid reader_mount
start_reader() {  # start_reader INDEX
    local i=$1 mnt=$MNT_A
    [ $((i % 2)) = 1 ] && mnt=$MNT_B
    python3 "$SOAK" read "$mnt" "$STATE" "$WORK/reader-$i-$RANDOM.json" "$i$RANDOM" 2>> "$WORK/readers.stderr" &
    reader_pid[$i]=$!
    reader_mount[$i]=$mnt
    PIDS+=($!)
}
for i in $(seq 0 $((READERS - 1))); do start_reader "$i"; done

# figures PID CACHE MNT: rss_kib fds threads cache_bytes catalogs_open catalogs_loaded
figures() {
    local affairs
    affairs=$("$BIN" talk -i "$FQRN" --config "$4" internal affairs)
    echo "$(awk '/^VmRSS/ {print $2}' "/proc/$1/status") $(ls "/proc/$1/fd" | wc -l)" \
        "$(awk '/^Threads/ {print $2}' "/proc/$1/status") $(cache_bytes "$2")" \
        "$(sed -n 's/^catalogs.open: \([0-9]*\).*/\1/p' <<< "$affairs") $(sed -n 's/^catalogs.loaded: //p' <<< "$affairs")"
}

# B goes away and comes back: its readers hold nothing open on it meanwhile.
remount_b() {
    touch "$STATE/pause-b"
    local deadline=$(( $(date +%s) + 30 )) waiting
    while :; do
        waiting=0
        for i in "${!reader_pid[@]}"; do
            [ "${reader_mount[$i]}" = "$MNT_B" ] || continue
            [ -e "$STATE/paused-b-${reader_pid[$i]}" ] || waiting=$((waiting + 1))
        done
        [ "$waiting" = 0 ] && break
        [ "$(date +%s)" -lt "$deadline" ] || fail "readers of mount B did not pause within 30 s"
        sleep 0.2
    done
    unmount_repo "$MNT_B"
    mount_repo "$FQRN" "$MNT_B" "$WORK/b.conf"
    rm -f "$STATE"/paused-b-* "$STATE/pause-b"
    remounts_b=$((remounts_b + 1))
}

start=$(figures "$PID_A" "$WORK/cache-a" "$MNT_A" "$WORK/a.conf")
checkpoint=""
kills=0 remounts_a=0 remounts_b=0 tick=0
started=$(date +%s)
# A revision every PERIOD seconds from the start of the last one, publication included; when a
# round runs long (B's readers pausing) the next one starts late rather than two in a burst.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
next_ms=$(( $(now_ms) + PERIOD * 1000 ))
while [ "$(date +%s)" -lt "$END" ]; do
    wait_ms=$(( next_ms - $(now_ms) ))
    [ "$wait_ms" -gt 0 ] && sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
    now=$(now_ms)
    next_ms=$(( (next_ms > now ? next_ms : now) + PERIOD * 1000 ))
    tick=$((tick + 1))
    revision=$((revision + 1))
    python3 "$SOAK" mutate "$SRC" "$STATE" "$revision"
    publish
    if [ $((tick % 7)) = 0 ]; then
        victim=$((RANDOM % READERS))
        kill -9 "${reader_pid[$victim]}" 2>/dev/null || true
        wait "${reader_pid[$victim]}" 2>/dev/null || true
        start_reader "$victim"
        kills=$((kills + 1))
    fi
    if [ $((tick % 11)) = 0 ]; then
        reply=$(talk_a remount sync)
        [[ $reply == "New revision applied" || $reply == "Catalog up to date" ]] || fail "talk remount sync on A: $reply"
        remounts_a=$((remounts_a + 1))
    fi
    [ $((tick % 17)) = 0 ] && remount_b
    kill -0 "$PID_A" 2>/dev/null || fail "mount A's daemon died"
    # A sample a minute of A's RSS and threads, to tell a plateau from steady growth.
    [ $((tick * PERIOD % 60)) -lt "$PERIOD" ] && echo "$(( $(date +%s) - started )) $(figures "$PID_A" "$WORK/cache-a" "$MNT_A" "$WORK/a.conf")" >> "$WORK/samples"
    if [ -z "$checkpoint" ] && [ "$(date +%s)" -ge "$CHECKPOINT" ]; then
        checkpoint=$(figures "$PID_A" "$WORK/cache-a" "$MNT_A" "$WORK/a.conf")
        checkpoint_revision=$revision
        checkpoint_at=$(( $(date +%s) - started ))
    fi
done

# The readers stop (and write their last figures); the mount gets one more revision with
# nothing open, so every older revision's inodes can go.
for i in "${!reader_pid[@]}"; do kill "${reader_pid[$i]}" 2>/dev/null || true; done
for i in "${!reader_pid[@]}"; do wait "${reader_pid[$i]}" 2>/dev/null || true; done
revision=$((revision + 1))
python3 "$SOAK" mutate "$SRC" "$STATE" "$revision"
publish
for _ in $(seq 50); do
    [ "$(xattr "$MNT_A" revision)" = "$revision" ] && [ "$(xattr "$MNT_B" revision)" = "$revision" ] && break
    sleep 0.2
done
[ "$(xattr "$MNT_A" revision)" = "$revision" ] || fail "mount A is on revision $(xattr "$MNT_A" revision), not $revision"
[ "$(xattr "$MNT_B" revision)" = "$revision" ] || fail "mount B is on revision $(xattr "$MNT_B" revision), not $revision"
sleep 1
final=$(figures "$PID_A" "$WORK/cache-a" "$MNT_A" "$WORK/a.conf")

# Every reader's figures, those of killed readers up to their last save.
read -r files bytes wrong errors vanished held < <(python3 - "$WORK" <<'PY'
import glob, json, sys
total = dict.fromkeys(["files", "bytes", "wrong", "errors", "vanished", "held_across_switch"], 0)
for path in glob.glob(sys.argv[1] + "/reader-*.json"):
    for k, v in json.load(open(path)).items():
        total[k] += v
print(*total.values())
PY
)
problems=$(cat "$WORK"/reader-*.json.errors 2>/dev/null | head -n 20)
[ -n "$problems" ] && echo "$problems" >&2
[ -s "$WORK/readers.stderr" ] && { tail -n 20 "$WORK/readers.stderr" >&2; fail "a reader crashed"; }

read -r rssS fdsS threadsS cacheS openS loadedS <<< "$start"
read -r rss0 fds0 threads0 cache0 open0 loaded0 <<< "$checkpoint"
read -r rss1 fds1 threads1 cache1 open1 loaded1 <<< "$final"
pinned=$(talk_a cache list pinned | awk '{print $1}' | sort)
mounted=$(talk_a open catalogs | sed -n 's/.*(\([0-9a-f]*\), revision.*/\1/p' | sort)
pinned_catalogs=$(comm -12 <(echo "$pinned") <(talk_a cache list catalogs | awk '{print $1}' | sort) | grep -c . || true)
stray=$(comm -23 <(comm -12 <(echo "$pinned") <(talk_a cache list catalogs | awk '{print $1}' | sort)) <(echo "$mounted") | grep -c . || true)

cat <<TABLE
| soak, $MINUTES min, a revision every $PERIOD s | start | checkpoint (revision $checkpoint_revision, $checkpoint_at s) | end (revision $revision, readers stopped) |
|---|---:|---:|---:|
| mount A RSS | $((rssS / 1024)) MiB | $((rss0 / 1024)) MiB | $((rss1 / 1024)) MiB |
| mount A open descriptors | $fdsS | $fds0 | $fds1 |
| mount A threads | $threadsS | $threads0 | $threads1 |
| mount A cache (quota $QUOTA_MB MiB) | $((cacheS / 1048576)) MiB | $((cache0 / 1048576)) MiB | $((cache1 / 1048576)) MiB |
| mount A catalogs open, all revisions (mounted revision's) | $openS ($loadedS) | $open0 ($loaded0) | $open1 ($loaded1) |
| mount A pinned catalogs (of other revisions) | | | $pinned_catalogs ($stray) |

$(awk -v from="${checkpoint_at:-0}" '$1 >= from { n++; r = $2 / 1024; if (n == 1 || r < lo) lo = r; if (r > hi) hi = r; t = $4; if (n == 1 || t < tlo) tlo = t; if (t > thi) thi = t
        c = $5 / 1048576; if (n == 1 || c < clo) clo = c; if (c > chi) chi = c }
    END { if (n) printf "after the checkpoint, %d samples a minute apart: RSS %.0f to %.0f MiB, threads %d to %d, cache %.0f to %.0f MiB\n", n, lo, hi, tlo, thi, clo, chi }' "$WORK/samples" 2>/dev/null)

readers: $files files checked, $((bytes / 1048576)) MiB read, $wrong wrong, $errors unexpected errors,
$vanished vanished between listing and open (allowed), $held held open across a switch;
$kills readers killed and replaced, $remounts_a remounts of A (talk), $remounts_b of B (unmount and mount)
TABLE

[ "$files" -gt 0 ] || fail "the readers checked no file"
[ "$wrong" = 0 ] || fail "$wrong files read with wrong bytes"
[ "$errors" = 0 ] || fail "$errors unexpected errors"
within() { [ "$2" -le $(( $1 + $1 / 10 + $3 )) ]; }  # within BASE VALUE SLACK
within "$fds0" "$fds1" 2 || fail "open descriptors grew from $fds0 to $fds1"
# FUSE workers are started when all are busy and kept (up to 16, FuseMountOptions), so the
# thread count is a high-water mark of concurrency: bounded, not compared with the checkpoint.
[ "$threads1" -le 24 ] || fail "$threads1 threads, more than 16 FUSE workers and 8 others"
# A run of 10 minutes or more is past its warm-up at the checkpoint and is held to 10 %;
# a shorter one (CI's) gets 4 MiB of slack.
within "$rss0" "$rss1" $(( MINUTES >= 10 ? 0 : 4096 )) || fail "RSS grew from $rss0 KiB to $rss1 KiB"
within "$open0" "$open1" 2 || fail "open catalogs grew from $open0 to $open1"
[ "$open1" = "$loaded1" ] || fail "$((open1 - loaded1)) catalogs of older revisions still open with no reader left"
[ "$stray" = 0 ] || fail "$stray pinned catalogs belong to no mounted catalog"
[ "$cache1" -le $((QUOTA_MB * 1048576)) ] || fail "cache at $cache1 bytes, over its $QUOTA_MB MiB quota"
pass "soak: $((revision - 1)) revisions in $MINUTES min, $files files ($((bytes / 1048576)) MiB) checked, no wrong byte, no unexpected error, resources steady"
unmount_repo "$MNT_B"
unmount_repo "$MNT_A"
