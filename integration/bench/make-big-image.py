#!/usr/bin/env python3
"""Build a large multi-layer image as an OCI image layout, offline, from the files Debian
packages installed on this machine (integration/bench/convert-bench.sh).

  make-big-image.py LAYOUT_DIR SIZE_MB LAYERS [ROOT...]

Walks ROOT (default /usr) in sorted order, taking regular files, symlinks and directories
until SIZE_MB megabytes of file data are taken, and cuts them into LAYERS gzip layers of
about equal size (each layer repeats the directories its files need). Tag 1 is that image;
tag 2 is the same layers plus one small top layer, so that it shares all but that layer
with tag 1. Prints the uncompressed and compressed sizes.
"""
import gzip
import hashlib
import json
import os
import stat
import sys
import tarfile

MTIME = 1700000000


def entries(roots, limit):
    taken = 0
    for root in roots:
        for top, dirs, files in os.walk(root):
            dirs.sort()
            yield top, None
            for name in sorted(files):
                path = os.path.join(top, name)
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                    yield path, st
                    if stat.S_ISREG(st.st_mode):
                        taken += st.st_size
                        if taken >= limit:
                            return


class LayerWriter:
    """A gzip'ed tar written straight into the layout's blob folder, hashed on the way."""

    def __init__(self, layout):
        self.path = os.path.join(layout, "blobs", "sha256", ".layer.part")
        self.file = open(self.path, "wb")
        self.compressed = hashlib.sha256()
        self.uncompressed = hashlib.sha256()
        outer = self

        class Tee:
            def write(self, data):
                outer.compressed.update(data)
                return outer.file.write(data)

            def flush(self):
                outer.file.flush()

        self.gzip = gzip.GzipFile(fileobj=Tee(), mode="wb", compresslevel=6, mtime=0)

        class Plain:
            def write(self, data):
                outer.uncompressed.update(data)
                return outer.gzip.write(data)

        self.tar = tarfile.open(fileobj=Plain(), mode="w|", format=tarfile.PAX_FORMAT)
        self.dirs = set()

    def add(self, path, st):
        name = path.lstrip("/")
        parts = name.split("/")
        for i in range(1, len(parts) + (0 if st else 1)):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                info = tarfile.TarInfo(d)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
                self.tar.addfile(info)
        if st is None:
            return
        info = tarfile.TarInfo(name)
        info.mtime, info.mode = MTIME, stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
            self.tar.addfile(info)
        else:
            info.size = st.st_size
            with open(path, "rb") as f:
                self.tar.addfile(info, f)

    def close(self):
        self.tar.close()
        self.gzip.close()
        self.file.close()
        digest = self.compressed.hexdigest()
        os.rename(self.path, os.path.join(os.path.dirname(self.path), digest))
        return "sha256:" + digest, os.path.getsize(os.path.join(os.path.dirname(self.path), digest)), "sha256:" + self.uncompressed.hexdigest()


def write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def image(layout, tag, layers, index):
    config = {"architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
              "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": [l[2] for l in layers]}}
    config_digest, config_size = write_blob(layout, json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l[0], "size": l[1]} for l in layers]}
    digest, size = write_blob(layout, json.dumps(manifest, sort_keys=True).encode())
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
                               "annotations": {"org.opencontainers.image.ref.name": tag}})


def main():
    layout, size_mb, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    roots = sys.argv[4:] or ["/usr"]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    limit = size_mb * 1000 * 1000
    per_layer = limit / count
    layers, writer, in_layer, total = [], LayerWriter(layout), 0, 0
    for path, st in entries(roots, limit):
        if in_layer >= per_layer and len(layers) < count - 1:
            layers.append(writer.close())
            writer, in_layer = LayerWriter(layout), 0
        writer.add(path, st)
        if st is not None and stat.S_ISREG(st.st_mode):
            in_layer += st.st_size
            total += st.st_size
    layers.append(writer.close())
    top = LayerWriter(layout)
    top.add("/bench-top-layer", None)  # a directory of its own: a small layer only tag 2 has
    layers2 = layers + [top.close()]
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    image(layout, "1", layers, index)
    image(layout, "2", layers2, index)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    print("%d layers, %d bytes of files, %d bytes compressed" % (len(layers), total, sum(l[1] for l in layers)))


if __name__ == "__main__":
    main()
