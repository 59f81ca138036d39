#!/usr/bin/env python3
"""The two sides of integration/soak.sh.

  soak.py mutate SRC STATE REVISION   changes the source tree for the next revision and
                                      records what every file must hold in STATE/REVISION.json
  soak.py read MOUNT STATE OUT SEED   reads files of a mount until SIGTERM, checking each
                                      against the revisions that were mounted while it was open

Every file says what it is: a header line "soak PATH REVISION SIZE" (the revision that last
wrote it) and then SIZE bytes drawn from a generator seeded with PATH and REVISION. So a reader
knows, from the bytes alone, whether it got a whole file of one revision; the revision maps
tell it whether that revision's file was the one the mount could have shown.
"""
import errno
import json
import os
import random
import signal
import sys
import time

DIRECTORIES = 8
FILES_PER_DIRECTORY = 24


def body(path, revision, size):
    return random.Random(f"{path}:{revision}").randbytes(size)


def header(path, revision, size):
    return f"soak {path} {revision} {size}\n".encode()


def write_file(src, path, revision, rng):
    # Mostly small files, some of a few hundred KiB: the cache sees churn, not only catalogs.
    size = rng.choice([0, 1, 100, 4096, 20000, 65536]) if rng.random() < 0.9 else rng.randrange(100_000, 400_000)
    with open(os.path.join(src, path), "wb") as f:
        f.write(header(path, revision, size))
        f.write(body(path, revision, size))
    return size


def mutate(src, state, revision):
    """Revision 1 creates the tree; later ones add, change and remove files, and now and then
    turn a directory into a nested catalog or back (a .cvmfscatalog file appears or goes)."""
    revision = int(revision)
    rng = random.Random(revision)
    files = {}
    if revision > 1:
        with open(os.path.join(state, f"{revision - 1}.json")) as f:
            files = {k: tuple(v) for k, v in json.load(f).items()}
    else:
        for d in range(DIRECTORIES):
            os.makedirs(os.path.join(src, f"d{d}", "sub"), exist_ok=True)
    if revision == 1:
        for d in range(DIRECTORIES):
            for i in range(FILES_PER_DIRECTORY):
                path = f"d{d}/{'sub/' if i % 3 == 0 else ''}f{i}"
                files[path] = (revision, write_file(src, path, revision, rng))
    else:
        for path in rng.sample(sorted(files), min(12, len(files))):
            files[path] = (revision, write_file(src, path, revision, rng))
        for path in rng.sample(sorted(files), min(3, len(files))):
            os.unlink(os.path.join(src, path))
            del files[path]
        for _ in range(3):
            d = rng.randrange(DIRECTORIES)
            path = f"d{d}/{'sub/' if rng.random() < 0.3 else ''}n{revision}-{rng.randrange(1000)}"
            if path not in files:
                files[path] = (revision, write_file(src, path, revision, rng))
        if revision % 4 == 0:
            marker = os.path.join(src, f"d{rng.randrange(DIRECTORIES)}", ".cvmfscatalog")
            if os.path.exists(marker):
                os.unlink(marker)
            else:
                open(marker, "wb").close()
    tmp = os.path.join(state, f"{revision}.json.tmp")
    with open(tmp, "w") as f:
        json.dump(files, f)
    os.rename(tmp, os.path.join(state, f"{revision}.json"))


class Reader:
    def __init__(self, mount, state, out, seed):
        self.mount, self.state, self.out = mount, state, out
        self.rng = random.Random(int(seed))
        self.maps = {}
        self.stats = {"files": 0, "bytes": 0, "wrong": 0, "errors": 0, "vanished": 0, "held_across_switch": 0}
        self.stopping = False
        # The revision seen at the end of the previous check: a lookup right after a switch may
        # still resolve through a kernel dentry of the revision before, until the switch's
        # invalidations reach the kernel (milliseconds), so that revision is allowed once.
        self.previous = None
        self.errors = open(out + ".errors", "a", buffering=1)

    def revision_map(self, revision):
        if revision not in self.maps:
            try:
                with open(os.path.join(self.state, f"{revision}.json")) as f:
                    self.maps[revision] = json.load(f)
            except FileNotFoundError:
                return None
        return self.maps[revision]

    def mounted_revision(self):
        return int(os.getxattr(self.mount, "user.revision"))

    def problem(self, kind, message):
        self.stats[kind] += 1
        self.errors.write(f"{time.strftime('%H:%M:%S')} {kind}: {message}\n")

    def paths(self):
        found = []
        for top, dirs, names in os.walk(self.mount, onerror=lambda e: None):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            rel = os.path.relpath(top, self.mount)
            found += [n if rel == "." else f"{rel}/{n}" for n in names if not n.startswith(".cvmfs")]
        return found

    def check(self, path):
        opened_in = self.mounted_revision()
        first = opened_in if self.previous is None else min(opened_in, self.previous)
        self.previous = None
        try:
            with open(os.path.join(self.mount, path), "rb") as f:
                # One file in twenty is held open for a few seconds, across a revision switch.
                if self.rng.random() < 0.05:
                    head = f.read(4096)
                    time.sleep(self.rng.uniform(2, 7))
                    data = head + f.read()
                else:
                    data = f.read()
        except OSError as e:
            last = self.mounted_revision()
            if e.errno == errno.ENOENT:
                # Fine if some revision mounted meanwhile lacks the file.
                if any((m := self.revision_map(r)) is not None and path not in m for r in range(first, last + 1)):
                    self.stats["vanished"] += 1
                    return
            self.problem("errors", f"{path}: {e} (revisions {first}..{last})")
            return
        last = self.previous = self.mounted_revision()
        if last > opened_in:
            self.stats["held_across_switch"] += 1
        self.stats["files"] += 1
        self.stats["bytes"] += len(data)
        line, _, rest = data.partition(b"\n")
        fields = line.decode(errors="replace").split(" ")
        if len(fields) != 4 or fields[0] != "soak" or fields[1] != path:
            self.problem("wrong", f"{path}: header {line[:80]!r} (revisions {first}..{last})")
            return
        written, size = int(fields[2]), int(fields[3])
        if len(rest) != size or rest != body(path, written, size):
            self.problem("wrong", f"{path}: {len(rest)} bytes differ from revision {written}'s {size} (revisions {first}..{last})")
            return
        expected = [(m or {}).get(path) for m in map(self.revision_map, range(first, last + 1))]
        if not any(e is not None and e[0] == written for e in expected):
            self.problem("wrong", f"{path}: revision {written}'s file, but revisions {first}..{last} hold {expected}")

    def save(self):
        tmp = self.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f)
        os.rename(tmp, self.out)

    def run(self, pause_flag, pause_ack):
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        while not self.stopping:
            if os.path.exists(pause_flag):
                # The mount is about to be unmounted: hold nothing open on it.
                open(pause_ack, "w").close()
                while os.path.exists(pause_flag) and not self.stopping:
                    time.sleep(0.2)
                continue
            try:
                paths = self.paths()
            except OSError as e:
                self.problem("errors", f"listing: {e}")
                time.sleep(1)
                continue
            self.rng.shuffle(paths)
            for path in paths[:50]:
                if self.stopping or os.path.exists(pause_flag):
                    break
                self.check(path)
                time.sleep(0.01)
            self.save()
        self.save()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "mutate":
        mutate(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "read":
        mount, state, out, seed = sys.argv[2:]
        name = os.path.basename(mount.rstrip("/"))
        Reader(mount, state, out, seed).run(os.path.join(state, f"pause-{name}"),
                                            os.path.join(state, f"paused-{name}-{os.getpid()}"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
