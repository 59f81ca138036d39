#!/usr/bin/env python3
"""Writes the deterministic publish-benchmark tree (about 256 MB) into DIR.

  1000 small files of 4-64 KiB, 50 files of 1-4 MiB, 3 files of 24/32/40 MiB;
  every other file is text-like (compresses about 3-4x with zlib), the others
  random bytes (incompressible). Same seed, same bytes, on every machine.
"""
import os
import random
import sys

WORDS = ("the of and to in is was for on that with as by at from this are be or an "
         "catalog chunk object manifest revision publish repository cvmfs swift hash "
         "directory entry symlink nested mount client server proxy cache whitelist "
         "0 1 2 3 4 5 6 7 8 9 10 42 100 1024 4096 lib64 usr bin include share").split()


def text_bytes(rng, size):
    out = bytearray()
    while len(out) < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        out += line.encode() + b"\n"
    return bytes(out[:size])


def write(path, rng, size, compressible):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        remaining = size
        while remaining > 0:
            n = min(remaining, 1 << 20)
            f.write(text_bytes(rng, n) if compressible else rng.randbytes(n))
            remaining -= n


def main():
    root = sys.argv[1]
    rng = random.Random(20261126)
    files = []
    for i in range(1000):
        files.append((f"small/d{i // 100:02d}/f{i:04d}", rng.randint(4 << 10, 64 << 10)))
    for i in range(50):
        files.append((f"medium/m{i:02d}", rng.randint(1 << 20, 4 << 20)))
    for i, mib in enumerate((24, 32, 40)):
        files.append((f"large/l{i}", mib << 20))
    total = 0
    for index, (name, size) in enumerate(files):
        write(os.path.join(root, name), rng, size, compressible=index % 2 == 0)
        total += size
    print(f"{len(files)} files, {total} bytes ({total / 1e6:.1f} MB) in {root}")


main()
