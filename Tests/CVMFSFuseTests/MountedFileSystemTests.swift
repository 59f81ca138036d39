import CFuse3
import CLinux
import CVMFSClient
import CVMFSFormat
@testable import CVMFSFuse
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

private func errnoOf(_ body: () -> Int) -> Int32 {
    errno = 0
    return body() < 0 ? errno : 0
}

private func readAll(_ path: String) -> (bytes: [UInt8], errno: Int32) {
    let fd = Glibc.open(path, O_RDONLY)
    guard fd >= 0 else { return ([], errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return (bytes, errno) }
        if n == 0 { return (bytes, 0) }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

private func listDirectory(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        names.append(name)
    }
    return names
}

@Suite("FuseMount serving an in-memory core", .serialized)
struct MountedFileSystemTests {
    /// Mounts a fresh in-memory core, runs `body`, then checks that no lookup
    /// count went below zero and unmounts, leaving no mount behind.
    private func withMount(_ body: (TestMount<InMemoryCore>) throws -> Void) throws {
        let mounted = try TestMount()
        defer {
            mounted.unmount()
            #expect(!MountTable.paths().contains(mounted.directory), "no mount left behind")
        }
        try body(mounted)
        #expect(!mounted.core.lookupCountWentNegative)
    }

    @Test("the mount is listed as cvmfs2, type fuse.<subtype>, read-only, and an orderly unmount ends the loop without error")
    func mountTableAndUnmount() throws {
        try withMount { mounted in
            // /proc/mounts: fsname cvmfs2, type fuse.<subtype>, read-only.
            let line = try #require(MountTable.line(for: mounted.directory))
            let fields = line.split(separator: " ")
            #expect(fields[0] == "cvmfs2")
            #expect(fields[2] == "fuse.cvmfs-test")
            #expect(fields[3].split(separator: ",").contains("ro"))

            // Orderly unmount through the kernel ends the loop without error.
            #expect(umount2(mounted.directory, 0) == 0)
            let loop = mounted.waitForLoop()
            #expect(loop.map { if case .success = $0 { true } else { false } } == true)
        }
    }

    @Test("readdir lists every entry of a large directory once over several readdirplus buffers, and the root without ..")
    func listing() throws {
        try withMount { mounted in
            // A directory of 2000 entries, plus . and .. (readdirplus, several buffers).
            let names = try #require(listDirectory(mounted.path("big")))
            #expect(names.count == InMemoryCore.bigCount + 2)
            #expect(Set(names).count == names.count, "no entry handed out twice")
            #expect(names.contains("."))
            #expect(names.contains(".."))
            #expect(names.contains("f1999"))
            // readdirplus was negotiated. With READDIRPLUS_AUTO the kernel uses it
            // for the first buffer (offset 0), which cannot hold 2000 entries, so
            // the entry that did not fit was rolled back; the balanced counts of
            // `lookupCountsBalance` check that (they fail if the rollback is removed).
            #expect(mounted.core.plusSlices >= 1)
            // Stat every entry, as `ls -l` would.
            var sizesMatch = true
            for index in stride(from: 0, to: InMemoryCore.bigCount, by: 97) {
                var st = stat()
                if stat(mounted.path("big/" + InMemoryCore.bigName(index)), &st) != 0 || st.st_size != 1000 + index {
                    sizesMatch = false
                }
            }
            #expect(sizesMatch)
            // No `..` on the repository root (docs/format/client-behaviour.md §8).
            #expect(listDirectory(mounted.path("")).map(Set.init) == [".", "big", "file.txt", "link", "broken"])
        }
    }

    @Test("stat shows a file's size, mode, inode, times with nanoseconds and blocks; statfs the core's figures")
    func statAndStatfs() throws {
        try withMount { mounted in
            // stat of a regular file: size, mode, times with nanoseconds, blocks.
            var st = stat()
            #expect(stat(mounted.path("file.txt"), &st) == 0)
            #expect(st.st_size == InMemoryCore.fileBytes.count)
            #expect(st.st_mode == 0o100644)
            #expect(st.st_ino == 3)
            #expect(st.st_mtim.tv_sec == Int(InMemoryCore.mtime))
            #expect(st.st_mtim.tv_nsec == Int(InMemoryCore.mtimeNanoseconds))
            #expect(st.st_ctim.tv_sec == Int(InMemoryCore.mtime))
            #expect(st.st_blocks == 1 + InMemoryCore.fileBytes.count / 512)

            // statfs.
            var fs = statvfs()
            #expect(statvfs(mounted.directory, &fs) == 0)
            #expect(fs.f_bsize == 512)
            #expect(fs.f_blocks == 2048)
            #expect(fs.f_bfree == 1024)
            #expect(fs.f_files == UInt(InMemoryCore.bigCount + 5))
        }
    }

    @Test("read gives a file's content, also from several threads at once, and the kernel then reads ahead 1 MiB")
    func read() throws {
        try withMount { mounted in
            // Content, also from several threads at once (multi-threaded loop).
            let whole = readAll(mounted.path("file.txt"))
            #expect(whole.errno == 0)
            #expect(whole.bytes == InMemoryCore.fileBytes)
            let mismatches = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                if readAll(mounted.path("file.txt")).bytes != InMemoryCore.fileBytes { mismatches.withLock { $0 += 1 } }
            }
            #expect(mismatches.withLock { $0 } == 0)
            // After the first open the kernel reads ahead 1 MiB (it started at 128 KiB).
            var root = stat()
            #expect(stat(mounted.directory, &root) == 0)
            let bdi = "/sys/class/bdi/\(gnu_dev_major(root.st_dev)):\(gnu_dev_minor(root.st_dev))/read_ahead_kb"
            #expect((try? String(contentsOfFile: bdi, encoding: .utf8)) == "1024\n")
        }
    }

    @Test("readlink gives a symlink's target, and EINVAL on a regular file")
    func symlink() throws {
        try withMount { mounted in
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink(mounted.path("link"), &target, target.count)
            #expect(length == InMemoryCore.linkTarget.count)
            #expect(target[0..<max(length, 0)].map { UInt8(bitPattern: $0) } == InMemoryCore.linkTarget)
            #expect(errnoOf { readlink(mounted.path("file.txt"), &target, target.count) } == EINVAL)
        }
    }

    @Test("getxattr and listxattr answer size queries and values, ERANGE for a short buffer and ENODATA for a missing name")
    func xattrs() throws {
        try withMount { mounted in
            // Extended attributes: size query, value, ERANGE, ENODATA, list.
            var value = [UInt8](repeating: 0, count: 64)
            #expect(getxattr(mounted.path("file.txt"), "user.test", nil, 0) == InMemoryCore.xattrValue.count)
            let got = getxattr(mounted.path("file.txt"), "user.test", &value, value.count)
            #expect(got == InMemoryCore.xattrValue.count)
            #expect(Array(value[0..<max(got, 0)]) == InMemoryCore.xattrValue)
            #expect(errnoOf { getxattr(mounted.path("file.txt"), "user.test", &value, 3) } == ERANGE)
            #expect(errnoOf { getxattr(mounted.path("file.txt"), "user.missing", &value, value.count) } == ENODATA)
            let listSize = listxattr(mounted.path("file.txt"), nil, 0)
            #expect(listSize == "user.test\0user.other\0".utf8.count)
            var list = [CChar](repeating: 0, count: 64)
            #expect(errnoOf { listxattr(mounted.path("file.txt"), &list, 4) } == ERANGE)
        }
    }

    @Test("writes are EROFS, a failing read EIO, a missing name ENOENT (cached by the kernel), a file as a directory ENOTDIR")
    func errors() throws {
        try withMount { mounted in
            // Writes: EROFS from the read-only mount.
            #expect(errnoOf { Int(Glibc.open(mounted.path("file.txt"), O_WRONLY)) } == EROFS)
            #expect(errnoOf { Int(Glibc.open(mounted.path("file.txt"), O_RDWR)) } == EROFS)
            #expect(errnoOf { Int(mkdir(mounted.path("newdir"), 0o755)) } == EROFS)

            // A failing read is EIO, and the rest of the file system keeps working.
            #expect(readAll(mounted.path("broken")).errno == EIO)
            #expect(readAll(mounted.path("file.txt")).bytes == InMemoryCore.fileBytes)

            // A missing name is ENOENT, and the kernel caches the miss (ino 0 entry).
            var st = stat()
            #expect(errnoOf { Int(stat(mounted.path("missing"), &st)) } == ENOENT)
            let missesAfterFirst = mounted.core.missLookups
            #expect(errnoOf { Int(stat(mounted.path("missing"), &st)) } == ENOENT)
            #expect(mounted.core.missLookups == missesAfterFirst, "second miss answered from the negative dentry")
            #expect(errnoOf { Int(stat(mounted.path("big/nope"), &st)) } == ENOENT)
            #expect(errnoOf { Int(opendir(mounted.path("file.txt")) == nil ? -1 : 0) } == ENOTDIR)
        }
    }

    @Test("lookup counts mirror the kernel's: never below zero, back to zero once it forgets, and every open has its release")
    func lookupCountsBalance() throws {
        try withMount { mounted in
            // What hands out counts: readdirplus over several buffers (with the
            // rollback of the entry that did not fit), lookups, opens.
            #expect(listDirectory(mounted.path("big"))?.count == InMemoryCore.bigCount + 2)
            var st = stat()
            for index in stride(from: 0, to: InMemoryCore.bigCount, by: 97) {
                _ = stat(mounted.path("big/" + InMemoryCore.bigName(index)), &st)
            }
            #expect(readAll(mounted.path("file.txt")).bytes == InMemoryCore.fileBytes)
            #expect(readAll(mounted.path("broken")).errno == EIO)
            var target = [CChar](repeating: 0, count: 256)
            _ = readlink(mounted.path("link"), &target, target.count)

            // Lookup counts mirror the kernel: never below zero, and back to zero
            // once the kernel forgets everything (needs root for drop_caches).
            #expect(!mounted.core.lookupCountWentNegative)
            if getuid() == 0 {
                #expect(mounted.dropKernelCachesAndWaitForForgets(), "outstanding: \(mounted.core.outstandingLookups)")
            }
            // The kernel sends RELEASE after close() returns: give it a moment.
            for _ in 0..<100 where mounted.core.openHandles != 0 { usleep(10_000) }
            #expect(mounted.core.openHandles == 0, "every open has its release")

            // Orderly unmount through the kernel ends the loop without error.
            #expect(umount2(mounted.directory, 0) == 0)
            let loop = mounted.waitForLoop()
            #expect(loop.map { if case .success = $0 { true } else { false } } == true)
            #expect(!mounted.core.lookupCountWentNegative)
        }
    }

    @Test("requestExit from another thread ends the loop, and run unmounts")
    func requestExitUnmounts() throws {
        let mounted = try TestMount()
        defer {
            mounted.unmount()
            #expect(!MountTable.paths().contains(mounted.directory), "no mount left behind")
        }
        var st = stat()
        #expect(stat(mounted.path("file.txt"), &st) == 0)
        #expect(mounted.isMounted)
        mounted.mount.requestExit()
        let loop = mounted.waitForLoop()
        #expect(loop != nil, "loop returned after requestExit")
        #expect(!mounted.isMounted)
    }
}

@Suite("FileSystemError to errno")
struct ErrnoMappingTests {
    @Test("each core error maps to the errno of docs/format/client-behaviour.md §9")
    func mapping() {
        #expect(FileSystemError.notFound.errno == ENOENT)
        let hash = ContentHash(printable: "0123456789abcdef0123456789abcdef01234567")!
        #expect(FileSystemError.catalog(.notSQLite(catalog: "x")).errno == EIO)
        #expect(FileSystemError.object("data/x", .notCached(hash: hash)).errno == EIO)
        #expect(FileSystemError.read(path: "x", errno: EBADF).errno == EIO)
        #expect(FileSystemError.inconsistent("x").errno == EIO)
        #expect(FileSystemError.notADirectory.errno == ENOTDIR)
        #expect(FileSystemError.isADirectory.errno == EISDIR)
        #expect(FileSystemError.notASymlink.errno == EINVAL)
        #expect(FileSystemError.noAttribute.errno == ENODATA)
        #expect(FileSystemError.object("data/x", .noSpace(hash: hash, needed: 2, pinned: 1, limit: 2)).errno == ENOSPC)
        #expect(FileSystemError.object("data/x", .objectTooLarge(hash: hash, size: 3, limit: 2)).errno == ENOSPC)
        #expect(FileSystemError.tooManyOpenFiles.errno == EMFILE)
        #expect(FileSystemError.permissionDenied.errno == EACCES)
        #expect(FileSystemError.staleHandle.errno == ESTALE)
        #expect(FileSystemError.readOnly.errno == EROFS)
    }

    @Test("read requests are as large as a pipe that can be had without privileges allows a splice of")
    func requestSize() {
        #expect(KernelReadAhead.requestSize(pipeLimit: 1 << 20) == 512 << 10)
        #expect(KernelReadAhead.requestSize(pipeLimit: 4 << 20) == 1 << 20)
        #expect(KernelReadAhead.requestSize(pipeLimit: 64 << 10) == 128 << 10)
        #expect(KernelReadAhead.requestSize(pipeLimit: nil) == 512 << 10)
    }

    @Test("mount options are read-only with fsname cvmfs2 and the optional flags")
    func options() {
        var options = FuseMountOptions()
        #expect(options.mountOptionString == "ro,fsname=cvmfs2")
        options.subtype = "cvmfs"
        options.allowOther = true
        options.defaultPermissions = true
        options.extraOptions = ["nodev"]
        options.debug = true
        #expect(options.arguments == ["cvmfs2", "-o", "ro,fsname=cvmfs2,subtype=cvmfs,allow_other,default_permissions,nodev", "-d"])
    }
}
