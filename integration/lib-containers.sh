# Helpers for running containers from a mounted repository (source after lib.sh):
# podman with a private configuration and storage, the docker CLI against podman's API
# socket, apptainer from a Debian sid tree, a shared tmpfs standing in for /cvmfs.
# Install `trap ctr_cleanup EXIT` instead of `trap cleanup EXIT`: it removes containers,
# stops podman's service and conmons, unmounts the repositories and the /cvmfs stand-in,
# then runs lib.sh's cleanup. Each setting below carries its reason where it is made (this
# VM: no CAP_SYS_RESOURCE, hybrid cgroups, a private / that is not a shared mount).

# Slow, reusable things (the sid tree with apptainer, the demo's Debian tree) live here.
CTR_CACHE=${CVMFS_SWIFT_CACHE:-/var/cache/cvmfs-swift-demo}
# The Debian mirror this machine's apt already uses.
CTR_MIRROR=${MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
CTR_MIRROR=${CTR_MIRROR:-$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)}
CTR_PODMAN_DIR=""
CTR_SHARED=()

skip() { echo "SKIP: $*"; }

# ctr_install PACKAGE...: installs the Debian packages that are missing (quietly).
ctr_install() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q --no-install-recommends "${missing[@]}" || { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }; } > "${WORK:-/tmp}/apt.log" 2>&1 \
        || { tail -n 5 "${WORK:-/tmp}/apt.log"; return 1; }
}

# ctr_podman_setup DIR: rootful podman with its own configuration and storage under DIR.
# Both files must exist before the first podman call on that graph root.
ctr_podman_setup() {
    CTR_PODMAN_DIR=$1
    mkdir -p "$CTR_PODMAN_DIR/tmp"
    local nofile nproc
    nofile=$(awk '/^Max open files/{print $5}' /proc/self/limits)
    nproc=$(awk '/^Max processes/{print $4}' /proc/self/limits)
    [ "$nofile" = unlimited ] && nofile=1048576
    if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
    export CONTAINERS_CONF=$CTR_PODMAN_DIR/containers.conf
    export CONTAINERS_STORAGE_CONF=$CTR_PODMAN_DIR/storage.conf
    # ulimits: the default nofile 1048576 needs CAP_SYS_RESOURCE; podman caps its own nproc at
    # 32768. runc: crun refuses hybrid cgroups.
    cat > "$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$CTR_PODMAN_DIR/tmp"
CONF
    cat > "$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$CTR_PODMAN_DIR/root"
runroot = "$CTR_PODMAN_DIR/run"
CONF
}

# ctr_podman_service: podman's Docker API on a unix socket; exports DOCKER_HOST.
ctr_podman_service() {
    local sock=$CTR_PODMAN_DIR/podman.sock
    podman system service --time=0 "unix://$sock" > "$CTR_PODMAN_DIR/service.log" 2>&1 &
    PIDS+=($!)
    echo $! > "$CTR_PODMAN_DIR/service.pid"
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || { cat "$CTR_PODMAN_DIR/service.log"; fail "podman system service did not start"; }
    export DOCKER_HOST=unix://$sock
}

# ctr_import_busybox NAME: a 2 MB image (static busybox and its applets), offline.
ctr_import_busybox() {
    local d=$WORK/busybox-root
    mkdir -p "$d/bin" "$d/etc" "$d/tmp"
    cp /bin/busybox "$d/bin/busybox"
    local a
    for a in sh cat sleep sha256sum grep ls echo true; do ln -sf busybox "$d/bin/$a"; done
    tar -C "$d" -c . | podman import -q - "$1" >/dev/null
}

# ctr_shared_dir DIR: a small tmpfs made a *shared* mount, standing in for /cvmfs, so that
# repositories mounted under it later propagate into containers (rslave/shared binds).
ctr_shared_dir() {
    mkdir -p "$1"
    mount -t tmpfs -o size=1m,mode=755 cvmfs-swift-test "$1"
    CTR_SHARED+=("$1")
    mount --make-shared "$1"
}

# ctr_sid_tree: a Debian sid tree with apptainer in $CTR_CACHE/sidroot (built once, about
# 1 min). Debian 12 has no apptainer; sid's needs glibc 2.38, so it runs inside this tree.
ctr_sid_tree() {
    CTR_SIDROOT=$CTR_CACHE/sidroot
    mkdir -p "$CTR_CACHE"
    (
        flock 9
        [ -x "$CTR_SIDROOT/usr/bin/apptainer" ] && [ -f "$CTR_SIDROOT/etc/hosts" ] && exit 0
        ctr_install debootstrap || exit 1
        if [ ! -f "$CTR_SIDROOT/.debootstrap-done" ]; then
            rm -rf "$CTR_SIDROOT"
            echo "building a Debian sid tree for apptainer (about a minute, cached in $CTR_SIDROOT)"
            debootstrap --variant=minbase sid "$CTR_SIDROOT" "$CTR_MIRROR" > "$CTR_CACHE/debootstrap-sid.log" 2>&1 \
                || { tail -n 5 "$CTR_CACHE/debootstrap-sid.log"; exit 1; }
            touch "$CTR_SIDROOT/.debootstrap-done"
        fi
        # sid's Release carries Valid-Until: hence Check-Valid-Until=false.
        unshare --mount --fork sh -c "mount -t proc proc '$CTR_SIDROOT/proc' && mount --rbind /dev '$CTR_SIDROOT/dev' &&
            mount --make-rslave '$CTR_SIDROOT/dev' && chroot '$CTR_SIDROOT' sh -c '
            apt-get -o Acquire::Check-Valid-Until=false update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends apptainer && apt-get clean'" \
            > "$CTR_CACHE/apptainer-install.log" 2>&1 || { tail -n 5 "$CTR_CACHE/apptainer-install.log"; exit 1; }
        # apptainer binds /etc/hosts; minbase has none
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$CTR_SIDROOT/etc/hosts"
    ) 9> "$CTR_CACHE/sidroot.lock"
}

# ctr_in_sid HOSTDIR COMMAND...: runs COMMAND inside the sid tree, entered with pivot_root in
# a private mount namespace (apptainer refuses a plain chroot), with HOSTDIR at /cvmfs.
# root's bounding set lacks CAP_SYS_RESOURCE, so apptainer is told to drop it.
ctr_in_sid() {
    local host=$1
    shift
    unshare --mount --fork sh -c '
      set -e
      R=$0 C=$1; shift
      mount --make-rslave /
      mount --rbind "$R" "$R"
      mount -t proc proc "$R/proc"
      mount --rbind /sys "$R/sys"
      mount --rbind /dev "$R/dev"
      mount -t tmpfs tmpfs "$R/tmp"
      mkdir -p "$R/cvmfs" "$R/.oldroot"
      mount --rbind "$C" "$R/cvmfs"
      cd "$R"
      pivot_root . .oldroot
      cd /
      umount -l /.oldroot
      exec env APPTAINER_DROP_CAPS=CAP_SYS_RESOURCE "$@"
    ' "$CTR_SIDROOT" "$host" "$@"
}

# ctr_cleanup: the EXIT trap. Containers and podman first (they hold mounts), then the
# repositories, the podman storage and the /cvmfs stand-in, then lib.sh's cleanup.
ctr_cleanup() {
    local status=$? m p
    set +e
    if [ -n "$CTR_PODMAN_DIR" ] && [ -f "$CTR_PODMAN_DIR/storage.conf" ]; then
        podman ps -aq 2>/dev/null | xargs -r podman rm -f -t 0 >/dev/null 2>&1
        if [ -f "$CTR_PODMAN_DIR/service.pid" ]; then
            p=$(cat "$CTR_PODMAN_DIR/service.pid")
            kill "$p" 2>/dev/null
            # the service still holds the storage while it shuts down
            for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
            rm -f "$CTR_PODMAN_DIR/service.pid"
        fi
        # 'docker exec' through the API leaves its conmon waiting (--exit-delay 300)
        for p in $(pgrep -x conmon); do
            tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "$CTR_PODMAN_DIR/" && kill "$p" 2>/dev/null
        done
        podman system reset --force >/dev/null 2>&1
    fi
    for m in "${MOUNTS[@]:-}"; do
        [ -n "$m" ] || continue
        grep -q " $m fuse" /proc/mounts && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; }
    done
    # anything still mounted below WORK (overlay driver self-bind, shared tmpfs), deepest first;
    # twice, for a podman process that was still exiting the first time
    for _ in 1 2; do
        for m in $(awk -v w="$WORK/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
        done
        sleep 0.2
    done
    for m in "${CTR_SHARED[@]:-}"; do
        [ -n "$m" ] && mountpoint -q "$m" && umount -l "$m" 2>/dev/null
    done
    (exit $status)
    cleanup
}

# ctr_serve_test_image: converts the multi-layer test image (make-test-image.py) into
# unpacked.test.local as registry.test.local/library/shell:1, serves it with nginx and writes
# the client configuration. Sets FQRN, NAME and conf.
ctr_serve_test_image() {
    FQRN=unpacked.test.local
    NAME=registry.test.local/library/shell:1
    mkdir -p "$WORK/www/cvmfs"
    python3 "$HERE/make-test-image.py" "$WORK/layout" multilayer 1 >/dev/null
    printf 'version: 1\nuser: test\ncvmfs_repo: %s\ninput:\n  - oci:%s:1 as %s\n' "$FQRN" "$WORK/layout" "$NAME" > "$WORK/recipe.yaml"
    "$BIN" convert "$WORK/recipe.yaml" --output "$WORK/www/cvmfs/$FQRN" --keys "$WORK/keys" --staging "$WORK/staging" --quiet > /dev/null \
        || fail "convert"
    start_nginx A "$WORK/www"
    conf="$WORK/client.conf"
    write_config "$conf" "$FQRN" "http://127.0.0.1:$NGINX_PORT_A/cvmfs/@fqrn@" "$WORK/keys/$FQRN.pub" "$WORK/cache"
}

# ctr_python_tree: prints the path of a Debian 12 tree with python3-minimal, built once with
# debootstrap from this machine's mirror and cached in $CTR_CACHE (slimmed like Docker's slim
# images: no package cache, lists, docs or man pages). Progress goes to stderr.
ctr_python_tree() {
    local tree=$CTR_CACHE/bookworm-python3 t
    mkdir -p "$CTR_CACHE"
    (
        flock 9
        if [ ! -f "$tree/.done" ]; then
            ctr_install debootstrap >&2
            rm -rf "$tree"
            t=$(date +%s%N)
            debootstrap --variant=minbase --include=python3-minimal bookworm "$tree" "$CTR_MIRROR" > "$CTR_CACHE/debootstrap-bookworm.log" 2>&1 \
                || { tail -n 5 "$CTR_CACHE/debootstrap-bookworm.log" >&2; exit 1; }
            rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/* "$tree"/usr/share/doc/* "$tree"/usr/share/man/* "$tree"/usr/share/info/*
            touch "$tree/.done"
            echo "   debootstrap --variant=minbase --include=python3-minimal bookworm: $(( ($(date +%s%N) - t) / 1000000 )) ms (cached in $tree)" >&2
        fi
    ) 9> "$CTR_CACHE/bookworm-python3.lock" || return 1
    echo "$tree"
}
