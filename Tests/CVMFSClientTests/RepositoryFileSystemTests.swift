import Foundation
import Glibc
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// What a user of the mount sees, asked of `RepositoryFileSystem` directly
/// (the calls the FUSE adapter makes), on the published sample tree.
@Suite("RepositoryFileSystem on a published repository")
struct RepositoryFileSystemTests {
    typealias Sample = PublishedMount.Sample

    @Test("lookup and getattr show each entry's mode, size, link count, owner and mtime as in the source tree")
    func attributesMatchSource() throws {
        let mount = try PublishedMount.sample("fs-attributes")
        defer { mount.close() }
        let fs = mount.fileSystem
        for path in [""] + Sample.paths {
            var st = stat()
            #expect(lstat(mount.source + (path.isEmpty ? "" : "/" + path), &st) == 0)
            let attributes = try path.isEmpty ? fs.getattr(RepositoryFileSystem.root) : fs.lookup(path: path)
            #expect(attributes.mode == st.st_mode, "mode of /\(path)")
            #expect(attributes.size == UInt64(st.st_size), "size of /\(path)")
            #expect(attributes.linkCount == UInt32(st.st_nlink), "link count of /\(path)")
            #expect(attributes.uid == st.st_uid && attributes.gid == st.st_gid, "owner of /\(path)")
            #expect(attributes.mtime == Int64(st.st_mtim.tv_sec), "mtime of /\(path)")
            #expect(attributes.mtimeNanoseconds == Int32(st.st_mtim.tv_nsec), "mtime nanoseconds of /\(path)")
            #expect(attributes.rdev == UInt64(st.st_rdev), "device number of /\(path)")
            // getattr reads the row again and says the same.
            #expect(try fs.getattr(attributes.inode) == attributes, "getattr of /\(path)")
        }
        // Spot checks of what the source tree was made with.
        #expect(try fs.lookup(path: "empty").mode == 0o100600)
        #expect(try fs.lookup(path: "script.sh").mode == 0o100755)
        #expect(try fs.lookup(path: "link").mode & 0o170000 == 0o120000)
        #expect(try fs.lookup(path: "link").size == UInt64("top.txt".utf8.count))
        #expect(try fs.lookup(path: "fifo").mode == S_IFIFO | 0o640)
        if Sample.hasDevice {
            let device = try fs.lookup(path: "device")
            #expect(device.mode == S_IFCHR | 0o620)
            #expect(device.rdev == UInt64(Sample.deviceNumber) && device.size == 0)
        }
        #expect(try fs.lookup(path: "big.bin").size == UInt64(Sample.big.count))
        #expect(try fs.lookup(path: "top.txt").mtimeNanoseconds != 0)
        #expect(try fs.getattr(RepositoryFileSystem.root).linkCount == 4, "2 + /dir + /nested")
        #expect(try fs.lookup(path: "dir").linkCount == 3, "2 + /dir/sub")
    }

    @Test("the two names of a hardlinked file have one inode, link count 2 and the same content")
    func hardlinks() throws {
        let mount = try PublishedMount.sample("fs-hardlinks")
        defer { mount.close() }
        let fs = mount.fileSystem
        let a = try fs.lookup(path: "dir/a.txt")
        let b = try fs.lookup(path: "dir/b.txt")
        #expect(a.inode == b.inode)
        #expect(a.linkCount == 2 && b.linkCount == 2)
        #expect(try fs.contents(of: a.inode) == Sample.hardlinked)
        #expect(try fs.contents(of: b.inode) == Sample.hardlinked)
        // Other files keep inodes of their own.
        let inodes = try Sample.paths.map { try fs.lookup(path: $0).inode }
        #expect(Set(inodes).count == inodes.count - 1, "only dir/a.txt and dir/b.txt share an inode")
    }

    @Test("a missing name is .notFound, the second time from the negative cache; below a file it is .notADirectory")
    func missingNames() throws {
        let mount = try PublishedMount.sample("fs-missing")
        defer { mount.close() }
        let fs = mount.fileSystem
        let root = RepositoryFileSystem.root
        #expect(fileSystemError { try fs.lookup(root, "no-such-file") } == .notFound)
        #expect(fs.misses.withLock { $0.contains(PathHash(path: "/no-such-file")) }, "the miss is remembered")
        #expect(fileSystemError { try fs.lookup(root, "no-such-file") } == .notFound)
        // Misses in a subdirectory and in the nested catalog.
        let dir = try fs.lookup(root, "dir")
        #expect(fileSystemError { try fs.lookup(dir.inode, "c.txt") } == .notFound)
        #expect(fs.misses.withLock { $0.contains(PathHash(path: "/dir/c.txt")) })
        let nested = try fs.lookup(root, "nested")
        #expect(fileSystemError { try fs.lookup(nested.inode, "absent") } == .notFound)
        #expect(fileSystemError { try fs.lookup(nested.inode, "absent") } == .notFound)
        // A name that differs only in case is another name.
        #expect(fileSystemError { try fs.lookup(root, "TOP.txt") } == .notFound)
        // Below a regular file or a symlink.
        let top = try fs.lookup(root, "top.txt")
        #expect(fileSystemError { try fs.lookup(top.inode, "anything") } == .notADirectory)
        let link = try fs.lookup(root, "link")
        #expect(fileSystemError { try fs.lookup(link.inode, "anything") } == .notADirectory)
        // An inode the kernel was never given.
        #expect(fileSystemError { try fs.lookup(987_654_321, "x") } == .staleHandle)
        #expect(fileSystemError { try fs.getattr(987_654_321) } == .staleHandle)
        // A miss does not count as an I/O error.
        #expect(mount.session.ioErrorCount == 0)
    }

    @Test("readlink gives the symlink's target; on anything else it is .notASymlink")
    func symlinks() throws {
        let mount = try PublishedMount.sample("fs-readlink")
        defer { mount.close() }
        let fs = mount.fileSystem
        let link = try fs.lookup(path: "link")
        #expect(try fs.readlink(link.inode) == Array("top.txt".utf8))
        #expect(try fs.xattr(link.inode, "user.rawlink") == "top.txt")
        #expect(fileSystemError { try fs.readlink(try fs.lookup(path: "top.txt").inode) } == .notASymlink)
        #expect(fileSystemError { try fs.readlink(try fs.lookup(path: "dir").inode) } == .notASymlink)
        #expect(fileSystemError { try fs.readlink(987_654_321) } == .staleHandle)
        // A symlink is not opened as a directory or read as a file.
        #expect(fileSystemError { try fs.openDirectory(link.inode) } == .notADirectory)
    }

    @Test("a listing hands out exactly the directory's names, with the attributes lookup gives")
    func listings() throws {
        let mount = try PublishedMount.sample("fs-listing")
        defer { mount.close() }
        let fs = mount.fileSystem
        func expectListing(_ path: String) throws {
            let inode = path.isEmpty ? RepositoryFileSystem.root : try fs.lookup(path: path).inode
            let names = try fs.listNames(inode)
            let want = try FileManager.default.contentsOfDirectory(atPath: mount.source + "/" + path).sorted()
            #expect(Array(names.prefix(2)) == [".", ".."], "/\(path) starts with . and ..")
            #expect(names.dropFirst(2).sorted() == want, "names of /\(path)")
        }
        for path in ["", "dir", "dir/sub", "nested", "nested/innerdir"] { try expectListing(path) }

        // Each entry's attributes are those of its lookup; . and .. carry the right inodes.
        let dir = try fs.lookup(path: "dir")
        let handle = try fs.openDirectory(dir.inode)
        var listed: [String: InodeAttributes] = [:]
        var offsets: [UInt64] = []
        try fs.readDirectory(handle, offset: 0, plus: false) { name, attributes, next in
            listed[String(decoding: name, as: UTF8.self)] = attributes
            offsets.append(next)
            return true
        }
        #expect(listed["."]?.inode == dir.inode)
        #expect(listed[".."]?.inode == RepositoryFileSystem.root)
        for name in ["a.txt", "b.txt", "sub"] {
            #expect(listed[name] == (try fs.lookup(dir.inode, name)), "attributes of dir/\(name)")
        }
        #expect(offsets == Array(1...UInt64(listed.count)), "each entry carries the offset of the next")
        // Resuming at an offset hands out the rest; past the end, nothing.
        var rest: [String] = []
        try fs.readDirectory(handle, offset: 3, plus: false) { name, _, _ in
            rest.append(String(decoding: name, as: UTF8.self))
            return true
        }
        #expect(rest.count == listed.count - 3)
        var none = 0
        try fs.readDirectory(handle, offset: UInt64(listed.count), plus: false) { _, _, _ in
            none += 1
            return true
        }
        #expect(none == 0)
        // A full reply buffer stops the listing after the entry that did not fit.
        var seen = 0
        try fs.readDirectory(handle, offset: 0, plus: false) { _, _, _ in
            seen += 1
            return seen < 2
        }
        #expect(seen == 2)
        fs.releaseDirectory(handle)
        #expect(fileSystemError { try fs.readDirectory(handle, offset: 0, plus: false) { _, _, _ in true } } == .staleHandle)
        // Only directories are listed.
        #expect(fileSystemError { try fs.openDirectory(try fs.lookup(path: "top.txt").inode) } == .notADirectory)
        #expect(fs.openDirectoryCount == 0, "every listing was released")
    }

    @Test("lookup counts balance: forgetting every count makes the inode stale, readdirplus counts too, the root stays")
    func lookupCountsBalance() throws {
        let mount = try PublishedMount.sample("fs-counts")
        defer { mount.close() }
        let fs = mount.fileSystem
        let root = RepositoryFileSystem.root
        let top = try fs.lookup(root, "top.txt")
        _ = try fs.lookup(root, "top.txt")
        _ = try fs.lookup(root, "top.txt")
        #expect(fs.lookupCount(top.inode) == 3)
        fs.forget(top.inode, count: 2)
        #expect(try fs.getattr(top.inode) == top, "one count left")
        fs.forget(top.inode, count: 1)
        #expect(fs.lookupCount(top.inode) == 0)
        #expect(fileSystemError { try fs.getattr(top.inode) } == .staleHandle)
        #expect(fileSystemError { try fs.open(top.inode) } == .staleHandle)
        #expect(fileSystemError { try fs.xattr(top.inode, "user.hash") } == .staleHandle)
        // Looked up again, it is the same inode with a fresh count.
        #expect(try fs.lookup(root, "top.txt").inode == top.inode)
        #expect(fs.lookupCount(top.inode) == 1)
        fs.forget(top.inode, count: 1)

        // A walk down and its forgets, deepest first.
        let chain = try fs.walk("dir/sub/deep.txt")
        #expect(chain.map { fs.lookupCount($0.inode) } == [1, 1, 1])
        fs.forget(chain)
        for attributes in chain { #expect(fileSystemError { try fs.getattr(attributes.inode) } == .staleHandle) }

        // Hardlinks: two names, one inode, two counts.
        let a = try fs.lookup(path: "dir/a.txt")
        let b = try fs.lookup(path: "dir/b.txt")
        let dir = try fs.lookup(root, "dir")
        #expect(fs.lookupCount(a.inode) == 2)
        fs.forget(b.inode, count: 1)
        #expect(try fs.getattr(a.inode).linkCount == 2)
        fs.forget(a.inode, count: 1)
        #expect(fileSystemError { try fs.getattr(a.inode) } == .staleHandle)

        // readdirplus: each entry handed out but . and .. is a lookup.
        let handle = try fs.openDirectory(dir.inode)
        var entries: [InodeAttributes] = []
        try fs.readDirectory(handle, offset: 0, plus: true) { name, attributes, _ in
            if name.count > 2 || name.first != UInt8(ascii: ".") { entries.append(attributes) }
            return true
        }
        fs.releaseDirectory(handle)
        // a.txt and b.txt are one inode.
        #expect(entries.count == 3)
        #expect(fs.lookupCount(a.inode) == 2)
        #expect(fs.lookupCount(try #require(entries.first { $0.isDirectory }).inode) == 1)
        #expect(fs.lookupCount(dir.inode) == 3, "its own lookups (two walks and one lookup), not its . entry")
        for attributes in entries { fs.forget(attributes.inode, count: 1) }
        for attributes in entries { #expect(fileSystemError { try fs.getattr(attributes.inode) } == .staleHandle) }
        fs.forget(dir.inode, count: 3)
        #expect(fileSystemError { try fs.getattr(dir.inode) } == .staleHandle)

        // The root is never forgotten.
        fs.forget(root, count: 100)
        #expect(try fs.getattr(root).isDirectory)
        #expect(try fs.lookup(root, "top.txt").inode == top.inode)
    }

    @Test("reading whole, chunked and empty files at several offsets gives the source bytes")
    func readsMatchSource() throws {
        let mount = try PublishedMount.sample("fs-read")
        defer { mount.close() }
        let fs = mount.fileSystem
        for (path, content) in Sample.files {
            let inode = try fs.lookup(path: path).inode
            let opened = try fs.open(inode)
            defer { fs.release(opened.handle) }
            #expect(!opened.directIO && opened.keepCache, "/\(path) is cached by the kernel")
            #expect(try fs.readToEnd(opened.handle) == content, "whole /\(path)")
            let size = content.count
            for offset in Set([0, 1, size / 3, size / 2, max(size - 1, 0), size, size + 4096]) {
                let want = offset < size ? Array(content[offset..<min(size, offset + 1000)]) : []
                #expect(try fs.read(opened.handle, offset: UInt64(offset), count: 1000) == want, "/\(path) at \(offset)")
            }
        }
        // The chunked file in odd-sized requests, as a reader with its own buffer would.
        let big = try fs.open(try fs.lookup(path: "big.bin").inode)
        #expect(try fs.readToEnd(big.handle, piece: 100_003) == Sample.big)
        fs.release(big.handle)
        #expect(fs.openFileCount == 0, "every open was released")
        // Directories are not opened as files.
        #expect(fileSystemError { try fs.open(try fs.lookup(path: "dir").inode) } == .isADirectory)
    }

    @Test("user.hash, user.chunks and user.compression say what the catalog says; catalog xattrs are served")
    func magicAndCatalogXattrs() throws {
        let mount = try PublishedMount.sample("fs-xattrs")
        defer { mount.close() }
        let fs = mount.fileSystem
        // A whole file: its content hash, one chunk.
        let top = try fs.lookup(path: "top.txt")
        let topEntry = try mount.catalogEntry("/top.txt")
        let topHash = try #require(topEntry.contentHash)
        #expect(try fs.xattr(top.inode, "user.hash") == topHash.description)
        #expect(try fs.xattr(top.inode, "user.chunks") == "1")
        #expect(try fs.xattr(top.inode, "user.compression") == topEntry.compression.description)
        #expect(try fs.xattr(top.inode, "user.lhash") == "Not in cache", "nothing read yet")
        _ = try fs.contents(of: top.inode)
        // The cache keeps objects inflated: the hash of the plain bytes.
        #expect(try fs.xattr(top.inode, "user.lhash") == ContentHasher.hash(Sample.top, algorithm: topHash.algorithm).description)

        // The chunked file: as many chunks as its catalog lists, and the hash its catalog row has.
        let big = try fs.lookup(path: "big.bin")
        let bigEntry = try mount.catalogEntry("/big.bin")
        #expect(bigEntry.isChunked)
        let chunks = try mount.catalogChunks("/big.bin")
        #expect(chunks.count > 1)
        #expect(try fs.xattr(big.inode, "user.chunks") == String(chunks.count))
        if let hash = bigEntry.contentHash {
            #expect(try fs.xattr(big.inode, "user.hash") == hash.description)
        } else {
            #expect(fileSystemError { try fs.xattr(big.inode, "user.hash") } == .noAttribute)
        }

        // A file in the nested catalog: the hash of that catalog's row.
        let inner = try fs.lookup(path: "nested/inner.txt")
        #expect(try fs.xattr(inner.inode, "user.hash") == (try #require(try mount.catalogEntry("/nested/inner.txt").contentHash)).description)

        // Entry-specific magic attributes do not apply to directories.
        let dir = try fs.lookup(path: "dir")
        for name in ["user.hash", "user.chunks", "user.compression", "user.rawlink"] {
            #expect(fileSystemError { try fs.xattr(dir.inode, name) } == .noAttribute, "\(name) of a directory")
        }
        #expect(fileSystemError { try fs.xattr(top.inode, "user.rawlink") } == .noAttribute)

        // The xattrs published from the source file.
        let tagged = try fs.lookup(path: "tagged.txt")
        #expect(try fs.xattr(tagged.inode, "user.color") == "blue")
        #expect(try fs.xattr(tagged.inode, "user.shape") == "round")
        #expect(fileSystemError { try fs.xattr(tagged.inode, "user.size") } == .noAttribute)
        #expect(fileSystemError { try fs.xattr(top.inode, "user.color") } == .noAttribute)
        let names = try fs.listxattr(tagged.inode).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(names.contains("user.color") && names.contains("user.shape"))
        // Magic names are listed on the root only (CVMFS_MAGIC_XATTRS_VISIBILITY=rootonly).
        let rootNames = try fs.listxattr(RepositoryFileSystem.root).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(rootNames.contains("user.fqrn") && rootNames.contains("user.revision"))
        #expect(try fs.listxattr(top.inode).isEmpty)
        // Mount-wide ones, from the session.
        #expect(try fs.xattr(RepositoryFileSystem.root, "user.fqrn") == mount.fqrn)
        #expect(try fs.xattr(RepositoryFileSystem.root, "user.revision") == "1")
        #expect(try fs.xattr(RepositoryFileSystem.root, "user.root_hash") == mount.report.rootCatalog.description)
    }
}
