#!/bin/bash
# /cvmfs bind-mounted into running containers: `podman run -v /cvmfs:/cvmfs:ro,rslave` and the
# literal `docker run -v /cvmfs:/cvmfs:shared` (docker CLI against podman's API socket; no
# Docker engine here). The containers start while /cvmfs is still empty; a repository mounted
# afterwards on the host appears inside them and a file reads the same bytes (sha256) inside
# and outside; without propagation (podman's default rprivate) it does not appear; the host's
# unmount propagates too. /cvmfs is a shared tmpfs standing in for the real one.
source "$(dirname "$0")/lib.sh"
source "$HERE/lib-containers.sh"
trap ctr_cleanup EXIT
ctr_install podman runc busybox-static || fail "cannot install podman, runc, busybox-static"
# Debian 12 ships the docker CLI only together with the engine (docker.io); the engine is not used.
command -v docker >/dev/null || ctr_install docker.io || fail "cannot install the docker CLI (docker.io)"

CV="$WORK/cvmfs"
ctr_shared_dir "$CV"
ctr_podman_setup "$WORK/podman"
BB=localhost/test/busybox:1
ctr_import_busybox "$BB"
podman run -d --name bind-rslave --network=none -v "$CV:/cvmfs:ro,rslave" "$BB" sleep 600 >/dev/null
podman run -d --name bind-private --network=none -v "$CV:/cvmfs:ro" "$BB" sleep 600 >/dev/null
ctr_podman_service
docker run -d --name bind-docker --network=none -v "$CV:/cvmfs:shared" "$BB" sleep 600 >/dev/null \
    || fail "docker run -d -v CVMFS:/cvmfs:shared"
[ -z "$(podman exec bind-rslave ls /cvmfs)" ] || fail "/cvmfs is not empty in the container"

# now publish and mount a repository on the host
ctr_serve_test_image
mount_repo "$FQRN" "$CV/$FQRN" "$conf"

FILE="$FQRN/$NAME/lib/x86_64-linux-gnu/libc.so.6"
want=$(sha256sum < "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)" | cut -d' ' -f1)
host=$(sha256sum < "$CV/$FILE" | cut -d' ' -f1)
[ "$host" = "$want" ] || fail "host read of $FILE: $host, want $want"
got=$(podman exec bind-rslave sha256sum "/cvmfs/$FILE" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "podman :rslave container: sha256 $got, want $want"
pass "podman -v CVMFS:/cvmfs:ro,rslave: repository mounted after the container started is visible, sha256 equal ($(stat -c %s "$CV/$FILE") bytes)"
got=$(docker exec bind-docker sha256sum "/cvmfs/$FILE" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "docker :shared container: sha256 $got, want $want"
pass "docker run -v CVMFS:/cvmfs:shared (docker CLI -> podman API): late repository visible, sha256 equal"
got=$(docker run --rm --network=none -v "$CV:/cvmfs:shared" "$BB" sh -c "sha256sum /cvmfs/$FILE; cat /cvmfs/$FQRN/$NAME/etc/hello" 2>&1)
[ "$got" = "$want  /cvmfs/$FILE"$'\n'"hello v2" ] || fail "docker run --rm: $got"
pass "docker run --rm -v CVMFS:/cvmfs:shared reads the image's files"
if podman exec bind-private ls "/cvmfs/$FQRN" >/dev/null 2>&1 && [ -n "$(podman exec bind-private ls "/cvmfs/$FQRN")" ]; then
    fail "the repository propagated into a container without rslave"
fi
pass "without propagation (default rprivate) the late repository stays invisible, as expected"

unmount_repo "$CV/$FQRN"
n=$(podman exec bind-rslave grep -c " /cvmfs/$FQRN " /proc/self/mountinfo || true)
[ "$n" = 0 ] || fail "host unmount did not propagate ($n mounts left)"
n=$(docker exec bind-docker grep -c " /cvmfs/$FQRN " /proc/self/mountinfo || true)
[ "$n" = 0 ] || fail "host unmount did not propagate into the docker container ($n mounts left)"
pass "unmounting on the host propagates into both containers"
