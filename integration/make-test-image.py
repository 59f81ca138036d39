#!/usr/bin/env python3
"""Build multi-layer test images as an OCI image layout, offline.

  make-test-image.py LAYOUT_DIR VARIANT [TAG]

VARIANT:
  multilayer   4 layers (gzip and plain): a deleted file (whiteout), a replaced directory
               (opaque whiteout), a directory replaced by a file, a symlink, a hard link to a
               file of a lower layer, set-id and odd modes, owners, fixed mtimes, and a
               runnable /bin/sh (dash and its libraries copied from the host)
  multilayer2  multilayer plus one more layer (a "new tag" image)
  dotdot       a layer with the entry '../evil'
  absolute     a layer with the entry '/evil'
  symlink      a symlink to '../../..' and a file written through it
  python       2 layers: the host's python3 with the modules it imports at start-up, then an
               entrypoint script (exports ENTERED=yes), with ENV, ENTRYPOINT and WORKDIR set
  python2      python plus one more layer (shares both layers with python)
  bulky        multilayer with 1.5 MB of incompressible bytes added to each layer (6 MB
               in all): long enough to download over a throttled link to be interrupted
  bulky2       bulky plus one more small layer (shares the four layers of bulky)
Several variants can share one layout under different tags.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MTIME = 1700000000


def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            kind = m[0]
            info = tarfile.TarInfo(m[1])
            info.mtime = MTIME
            info.uid = info.gid = 0
            data = None
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = m[2]
            elif kind == "file":
                info.type = tarfile.REGTYPE
                data = m[2]
                info.mode = m[3] if len(m) > 3 else 0o644
                if len(m) > 4:
                    info.uid, info.gid = m[4]
                info.size = len(data)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = m[2]
                info.mode = 0o777
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = m[2]
                info.mode = 0o644
            elif kind == "raw":  # name used verbatim, even if unsafe
                info.type = tarfile.REGTYPE
                data = b"evil\n"
                info.size = len(data)
                info.mode = 0o644
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def host_file(path):
    with open(path, "rb") as f:
        return f.read()


def shell_members():
    members = [("dir", "bin", 0o755), ("dir", "lib", 0o755), ("dir", "lib/x86_64-linux-gnu", 0o755), ("dir", "lib64", 0o755)]
    members.append(("file", "bin/sh", host_file(os.path.realpath("/bin/sh")), 0o755))
    for lib in ["/lib/x86_64-linux-gnu/libc.so.6"]:
        members.append(("file", lib.lstrip("/"), host_file(os.path.realpath(lib)), 0o755))
    members.append(("file", "lib64/ld-linux-x86-64.so.2", host_file(os.path.realpath("/lib64/ld-linux-x86-64.so.2")), 0o755))
    return members


def python_members():
    import subprocess
    members = shell_members()
    dirs = {m[1] for m in members if m[0] == "dir"}
    code = "import sys; print('\\n'.join(m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)))"
    files = subprocess.run(["/usr/bin/python3", "-c", code], check=True, capture_output=True, text=True).stdout.split()
    exe = os.path.realpath("/usr/bin/python3")
    libs = [l.split("=>")[1].split()[0] for l in subprocess.run(["ldd", exe], capture_output=True, text=True).stdout.splitlines() if "=>" in l]
    stdlib = "/usr/lib/" + os.path.basename(exe)  # the stdlib of that interpreter, not of the one running this script
    files += [exe, os.path.join(stdlib, "os.py")] + libs  # os.py: the prefix landmark
    seen = {m[1] for m in members}
    for f in files:
        name = f.lstrip("/")
        if name in seen or not os.path.isfile(f):
            continue
        parts = name.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                members.append(("dir", d, 0o755))
        members.append(("file", name, host_file(os.path.realpath(f)), 0o755))
        seen.add(name)
    members.append(("dir", os.path.join(stdlib, "lib-dynload").lstrip("/"), 0o755))  # the exec_prefix landmark
    members.append(("symlink", "usr/bin/python3", os.path.basename(exe)))
    return members


def layers_for(variant):
    if variant.startswith("python"):
        layers = [
            python_members(),
            [("dir", "usr/local", 0o755), ("dir", "usr/local/bin", 0o755),
             ("file", "usr/local/bin/entry", b'#!/bin/sh\nexport ENTERED=yes\nexec "$@"\n', 0o755),
             ("dir", "work", 0o755), ("dir", "work/dir", 0o755)],
        ]
        return layers + ([[("file", "etc/version", b"2\n")]] if variant == "python2" else [])
    base = [
        [  # layer 1
            ("dir", "etc", 0o755), ("file", "etc/hello", b"hello\n"),
            ("dir", "data", 0o755), ("file", "data/keep.txt", b"keep\n"), ("file", "data/gone.txt", b"gone\n"),
            ("dir", "opt", 0o755), ("dir", "opt/dir", 0o750), ("file", "opt/dir/old.txt", b"old\n"),
            ("dir", "opt/dir/sub", 0o700), ("file", "opt/dir/sub/deep.txt", b"deep\n"),
            ("dir", "replaced", 0o755), ("file", "replaced/child", b"child\n"),
            ("dir", "a", 0o755), ("file", "a/orig", b"linked content\n", 0o640, (1000, 1000)),
            ("file", "suid", b"#!/bin/sh\n", 0o4755),
            ("dir", "tmp", 0o1777),
        ] + shell_members(),
        [  # layer 2: whiteout, opaque directory, symlink, cross-layer hard link
            ("file", "data/.wh.gone.txt", b""),
            ("dir", "opt/dir", 0o755), ("file", "opt/dir/.wh..wh..opq", b""), ("file", "opt/dir/new.txt", b"new\n"),
            ("symlink", "opt/link", "../etc/hello"),
            ("hardlink", "a/hard", "a/orig"),
            ("symlink", "abs", "/etc/hello"),
        ],
        [  # layer 3: a directory replaced by a file, a file replaced by a symlink
            ("file", "replaced", b"now a file\n"),
            ("symlink", "data/keep.txt", "../etc/hello"),
            ("file", "etc/hello", b"hello v2\n"),
        ],
        [  # layer 4 (uncompressed): a file in a directory of layer 1, whiteout of a whole tree
            ("file", "etc/version", b"1\n"),
            ("file", ".wh.tmp", b""),
        ],
    ]
    if variant == "multilayer":
        return base
    if variant.startswith("bulky"):
        # Deterministic, so that two runs build the same blobs.
        bulk = lambda i: hashlib.shake_256(b"bulk layer %d" % i).digest(1500000)
        layers = [m + [("file", "bulk-%d.bin" % i, bulk(i))] for i, m in enumerate(base)]
        return layers + ([[("file", "etc/version", b"2\n")]] if variant == "bulky2" else [])
    if variant == "multilayer2":
        return base + [[("file", "etc/version", b"2\n"), ("dir", "new", 0o755), ("file", "new/file", b"tag two\n")]]
    if variant == "dotdot":
        return [[("dir", "etc", 0o755), ("raw", "../evil")]]
    if variant == "absolute":
        return [[("dir", "etc", 0o755), ("raw", "/evil")]]
    if variant == "symlink":
        return [[("dir", "etc", 0o755), ("symlink", "etc/escape", "../../../../../../tmp")], [("raw", "etc/escape/evil")]]
    raise SystemExit("unknown variant " + variant)


def write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def main():
    layout, variant = sys.argv[1], sys.argv[2]
    tag = sys.argv[3] if len(sys.argv) > 3 else variant
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    descriptors, diff_ids = [], []
    layers = layers_for(variant)
    for i, members in enumerate(layers):
        raw = tar_bytes(members)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        plain = variant.startswith(("multilayer", "bulky")) and i == 3
        blob = raw if plain else gzip.compress(raw, mtime=0)
        digest, size = write_blob(layout, blob)
        media = "application/vnd.oci.image.layer.v1.tar" + ("" if plain else "+gzip")
        descriptors.append({"mediaType": media, "digest": digest, "size": size})
    config = {
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hello from the store"], "Entrypoint": ["/usr/local/bin/entry"],
                   "Cmd": ["python3"], "WorkingDir": "/work/dir"} if variant.startswith("python") else {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "make-test-image %s %d" % (variant, i)} for i in range(len(layers))],
    }
    config_digest, config_size = write_blob(layout, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": descriptors,
    }
    manifest_digest, manifest_size = write_blob(layout, json.dumps(manifest, sort_keys=True).encode())
    index_path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": tag},
    })
    with open(index_path, "w") as f:
        json.dump(index, f)
    print(manifest_digest)


if __name__ == "__main__":
    main()
