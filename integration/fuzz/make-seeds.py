#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz harnesses into integration/fuzz/corpus/<harness>/.

Seeds come from the upstream fixture (Tests/Fixtures/small.cvmfs.local), the shipped
configuration (mountconfig/) and small documents in the formats the harnesses decode
(Fuzz/*.swift describe each harness's input layout). Run it again after changing a layout;
it only rewrites the files it makes.
"""
import gzip, hashlib, io, json, os, struct, subprocess, sys, tarfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "Tests/Fixtures/small.cvmfs.local")
REPO = os.path.join(FIXTURE, "repo")
OUT = os.path.join(ROOT, "integration/fuzz/corpus")


def put(harness, name, data):
    os.makedirs(os.path.join(OUT, harness), exist_ok=True)
    with open(os.path.join(OUT, harness, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def obj(hex_hash, suffix=""):
    return read(os.path.join(REPO, "data", hex_hash[:2], hex_hash[2:] + suffix))


manifest = read(os.path.join(REPO, ".cvmfspublished"))
whitelist = read(os.path.join(REPO, ".cvmfswhitelist"))
payload = manifest[:manifest.index(b"\n--\n") + 1]
cert_hash = [l[1:] for l in payload.split(b"\n") if l.startswith(b"X")][0].decode()
certificate = zlib.decompress(obj(cert_hash, "X"))
master_key = read(os.path.join(FIXTURE, "small.cvmfs.local.pub"))

# manifest, whitelist, profile
put("manifest", "fixture", manifest)
put("manifest", "payload-shake128", payload.replace(b"\nN", b"\nLd41d8cd98f00b204e9800998ecf8427e00000000-shake128\nN")
    + b"Z1\nZ2\n")
put("whitelist", "fixture", whitelist)
put("whitelist", "pkcs7-cachain", b"20240101000000\nE20360101000000\nNsmall.cvmfs.local\nVpkcs7\nWcachain\n"
    + b"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01-RMD160 # key\n--\n")
put("profile", "small", b"# cvmfs-swift start-up profile 1\nusr/bin/python3\nusr/lib/libc.so.6\t1048576\n"
    + b"with\\ttab\\\\and\\nnewline\n")

# letter: mode byte, then the harness's layout
signature = manifest[manifest.index(b"\n--\n") + 4:].split(b"\n", 1)[1]
wl_payload = whitelist[:whitelist.index(b"\n--\n") + 1]
wl_signature = whitelist[whitelist.index(b"\n--\n") + 4:].split(b"\n", 1)[1]
put("letter", "manifest", b"\x00" + manifest)
put("letter", "whitelist", b"\x01" + whitelist)
put("letter", "manifest-payload", b"\x02" + payload + b"\xff" + signature)
put("letter", "whitelist-payload", b"\x03" + wl_payload + b"\xff" + wl_signature)
put("letter", "plain", b"\x04" + manifest)

# certificate: PEM, DER, public key
put("certificate", "fixture.pem", certificate)
der = subprocess.run(["openssl", "x509", "-outform", "der"], input=certificate, capture_output=True, check=True).stdout
put("certificate", "fixture.der", der)
put("certificate", "master.pub", master_key)

# object: control byte (bit 0 plain, bits 1-2 algorithm, bit 3 wrong hash, bits 4-7 piece
# size), sizing byte (bits 0-1 stated size or none, bit 7 sink limit), data
small_catalog = obj("d4e635de684cfb6b818b9ce4cc1bdd8ab3510fe9", "C")
put("object", "catalog-zlib", bytes([0x40, 0x00]) + small_catalog)
put("object", "certificate-zlib", bytes([0x00, 0x85]) + obj(cert_hash, "X"))
put("object", "plain", bytes([0x21, 0x01]) + b"hello, world\n" * 8)
put("object", "empty-zlib", bytes([0x02, 0x00]) + zlib.compress(b""))

# catalog: mode byte (bits 0-5 drop optional columns/tables, bit 6 keep the root row,
# bit 7 raw SQLite file), then rows; see Fuzz/Catalog.swift
def d(b):
    return bytes([len(b)]) + b


def i(v):
    if 0 <= v < 0x80:
        return bytes([v])
    return b"\x80" + struct.pack("<q", v)


def entry(parent, name, hash_=b"", size=0, mode=0o100644, flags=4, symlink=b"", xattr=b"", mtimens=0, old=False):
    # columns after the path hashes, in table order: hardlinks, hash, size, mode, mtime,
    # mtimens, flags, name, symlink, uid, gid, xattr; `old` (mode bits 0-2): the last
    # three and mtimens dropped
    return (b"\x01" + bytes([parent]) + d(name) + i(1) + d(hash_) + i(size) + i(mode) + i(1700000000)
            + (b"" if old else i(mtimens)) + i(flags) + d(symlink) + (b"" if old else i(1000) + i(1000) + d(xattr)))


xattr = bytes([1, 2, 4, 3]) + b"user" + b"abc" + bytes([5, 0]) + b"user2"
def rows(old):
    return (b"\x00" + bytes([2]) + d(b"7")          # revision = 7
            + b"\x00" + bytes([3]) + d(b"60")       # TTL
            + (b"\x00" + bytes([1]) + d(b"4") if old else b"")  # schema_revision = 4
            + entry(255, b"", mode=0o040755, flags=1, old=old)     # paths: [root, root, /dir, /nested]
            + entry(0, b"dir", mode=0o040755, flags=1, old=old)
            + entry(2, b"file.txt", hash_=bytes(range(20)), size=12, xattr=xattr, old=old)
            + entry(2, b"big", hash_=bytes(range(1, 21)), size=300, flags=4 | 64, old=old)
            + b"\x02" + i(0) + i(100) + d(bytes(range(2, 22)))
            + b"\x02" + i(100) + i(200) + d(bytes(range(3, 23)))
            + entry(0, b"link", mode=0o120777, flags=8, symlink=b"$(ARCH)/lib/$(NONE:-fallback)", old=old)
            + entry(0, b"nested", mode=0o040755, flags=1 | 2, old=old)
            + b"\x03\x00\x03" + d(bytes(range(4, 24))) + i(4096)
            + b"\x05" + bytes([0]) + i(3))


put("catalog", "rows", b"\x00" + rows(False))
put("catalog", "rows-rev4-columns", b"\x07" + rows(True))
put("catalog", "sqlite-nested", b"\x80" + zlib.decompress(obj("a031e008aac466a4b4371e064f7e2dda46ff8450", "C")))

# cachedb: control byte (bit 0 shared, bit 1 crash guard, bit 2 raw file, bits 3-4 quota),
# then rows: kind byte (0 property, 3 breadcrumb, else a cache_catalog row; bit 6 hash as
# free text, bit 7 with an object file), see Fuzz/CacheDatabase.swift
def cache_row(kind, digest, size, acseq, path, type_, pinned, object_size=None):
    out = bytes([kind]) + d(digest) + i(size) + i(acseq) + d(path) + i(type_) + i(pinned)
    return out + (bytes([object_size]) if object_size is not None else b"")


crumb = b"e7ea9f6edecce32d1fab4ba61a67fa345a86ab8aT1795703655R1"
cache_rows = (cache_row(0x81, bytes(range(20)), 10, 1, b"/file", 0, 0, 10)
              + cache_row(0x85, bytes(range(1, 21)), 30, 2, b"catalog", 1, 1, 30)
              + cache_row(0x02, bytes(range(2, 22)), 5, 3, b"gone", 0, 0)
              + b"\x03" + d(crumb))
put("cachedb", "private", b"\x00" + cache_rows)
put("cachedb", "shared-crashed", b"\x03" + cache_rows)

# config: the shipped files and one with templates and every typed parameter kind
put("config", "default.conf", read(os.path.join(ROOT, "mountconfig/default.conf")))
put("config", "cern.ch.conf", read(os.path.join(ROOT, "mountconfig/domain.d/cern.ch.conf")))
put("config", "typed", b"""CVMFS_SERVER_URL="http://s1.example.org/cvmfs/@fqrn@;http://s2/@org@"
export CVMFS_HTTP_PROXY='http://squid1:3128|http://squid2:3128;DIRECT'
CVMFS_FALLBACK_PROXY=http://fallback:3128
readonly CVMFS_QUOTA_LIMIT=-1
CVMFS_TIMEOUT=3 # seconds
CVMFS_SHARED_CACHE=yes
CVMFS_CACHE_BASE=/var/lib/cvmfs
CVMFS_KCACHE_TIMEOUT=-5
CVMFS_MAGIC_XATTRS_VISIBILITY=rootonly
CVMFS_FUZZ_REPOSITORY=atlas
CVMFS_DEFAULT_DOMAIN=cern.ch
CVMFS_REPOSITORIES=atlas,cms.cern.ch
""")

# recipe
put("recipe", "ducc", b"""version: 1
user: fuzz
cvmfs_repo: 'unpacked.cern.ch'
output_format: '$(scheme)://$(registry)/$(repository):$(tag)'
podman_store: false # comment
input:
- 'https://registry.hub.docker.com/library/python:3.11'
- registry.example.org:5000/team/image@sha256:""" + b"ab" * 32 + b"""
- oci:/srv/layout:1 as localhost/test/image:1
profiles:
  'https://registry.hub.docker.com/library/python:3.11': start.profile
""")
put("recipe", "flow", b"version: 1\ncvmfs_repo: x.org\ninput: [a/b:1, \"docker-archive:/x.tar as r/c:2\", 'd/e:*']\n")

# image: OCI index, manifest, config, docker manifest.json
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
                     "config": {"Env": ["PATH=/bin"], "Entrypoint": ["/entry"], "Cmd": ["sh"], "WorkingDir": "/w"},
                     "rootfs": {"type": "layers", "diff_ids": [sha(b"layer")]}}, sort_keys=True).encode()
manifest_doc = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(b"l1"), "size": 10},
                                      {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "digest": sha(b"l2"),
                                       "urls": ["https://example.org/l2"]}]}, sort_keys=True).encode()
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest_doc),
                                   "size": len(manifest_doc), "platform": {"architecture": "amd64", "os": "linux"}},
                                  {"digest": sha(b"arm"), "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
                                   "annotations": {"org.opencontainers.image.ref.name": "1"}}]}).encode()
put("image", "config.json", config)
put("image", "manifest.json", manifest_doc)
put("image", "index.json", index)
put("image", "docker-save.json", json.dumps([{"Config": "abc.json", "RepoTags": ["localhost/test/image:1"],
                                               "Layers": ["l1/layer.tar"]}]).encode())

# tar: control byte (bits 0-2 piece size, bit 3 gzip, bit 4 skip data), then the archive
def tar_bytes(fmt, members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def member(name, kind=tarfile.REGTYPE, data=b"", link="", pax=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    info.mtime = 1700000000
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    if pax:
        info.pax_headers = pax
    return info, (data if kind == tarfile.REGTYPE else None)


long_name = "dir/" + "n" * 150 + "/file"
ustar = tar_bytes(tarfile.USTAR_FORMAT, [member("dir", tarfile.DIRTYPE), member("dir/file", data=b"content\n"),
                                         member("dir/link", tarfile.SYMTYPE, link="file"),
                                         member("dir/hard", tarfile.LNKTYPE, link="dir/file"),
                                         member("dir/.wh.gone", data=b"")])
gnu = tar_bytes(tarfile.GNU_FORMAT, [member(long_name, data=b"x" * 600), member("l", tarfile.SYMTYPE, link="t" * 120)])
pax = tar_bytes(tarfile.PAX_FORMAT, [member("p" * 120, data=b"pax", pax={"SCHILY.xattr.user.a": "1", "mtime": "1700000000.5",
                                                                          "uid": "4000000000", "size": "3"})])
put("tar", "ustar", b"\x00" + ustar[:4096])
put("tar", "gnu-longname", b"\x02" + gnu[:6144])
put("tar", "pax", b"\x01" + pax[:4096])
put("tar", "gzip", b"\x03" + gzip.compress(ustar, mtime=0))
# A GNU sparse member (type S): refused with a message, not read.
sparse = bytearray(ustar[:512])
sparse[156] = ord("S")
sparse[148:156] = b"        "
sparse[148:156] = ("%06o\0 " % sum(sparse)).encode()
put("tar", "sparse", b"\x00" + bytes(sparse) + bytes(1024))

total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
print("seed corpus:", total, "bytes in", OUT)
