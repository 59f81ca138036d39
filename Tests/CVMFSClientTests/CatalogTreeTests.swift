import Foundation
import Glibc
import Synchronization
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// `CatalogTree` of a mounted revision: nested catalogs attach when a path
/// below them is first used, once, with inodes that never clash.
@Suite("CatalogTree on a published repository")
struct CatalogTreeTests {
    /// Three nested catalogs: /one, /one/two inside it, and /side next to it.
    static func write(_ root: String) throws {
        typealias W = SourceTreeWriter
        try W.write(Array("top\n".utf8), to: root + "/a.txt")
        try W.directory(root + "/one/two")
        try W.directory(root + "/side")
        for marker in ["one", "one/two", "side"] { try W.write([], to: root + "/\(marker)/.cvmfscatalog") }
        try W.write(Array("in one\n".utf8), to: root + "/one/f.txt")
        try W.write(Array("in two\n".utf8), to: root + "/one/two/g.txt")
        for index in 0..<sideCount { try W.write(Array("side \(index)\n".utf8), to: root + "/side/h\(index).txt") }
    }

    static let sideCount = 64

    static func mount(_ label: String) throws -> PublishedMount {
        try PublishedMount(label: label, tree: write)
    }

    static func mountpoints(_ tree: CatalogTree) -> [String] { tree.attached.map(\.mountpoint).sorted() }

    @Test("crossing into a nested catalog attaches it once; later lookups, listings and reads do not attach it again")
    func attachesOnce() throws {
        let mount = try PublishedMount.sample("tree-once")
        defer { mount.close() }
        let fs = mount.fileSystem
        let tree = fs.tree
        #expect(Self.mountpoints(tree) == [""])
        #expect(try fs.xattr(RepositoryFileSystem.root, "user.nclg") == "1")
        // Paths of the root catalog, the mount point's own entry included, need no nested catalog.
        _ = try fs.lookup(path: "dir/sub/deep.txt")
        _ = try fs.listNames(RepositoryFileSystem.root)
        #expect(tree.attached.count == 1)

        let limit = tree.inodeLimit
        let inner = try fs.lookup(path: "nested/inner.txt")
        #expect(Self.mountpoints(tree) == ["", "/nested"])
        #expect(try fs.xattr(RepositoryFileSystem.root, "user.nclg") == "2")
        let nestedCatalog = try #require(tree.attached.first { $0.mountpoint == "/nested" })
        #expect(tree.inodeLimit == limit + UInt64(nestedCatalog.catalog.maxRowID), "the nested catalog got an inode range of its own")
        #expect(inner.inode >= limit && inner.inode < tree.inodeLimit)

        // More use of the nested catalog attaches nothing more.
        let nested = try fs.lookup(path: "nested")
        _ = try fs.listNames(nested.inode, plus: true)
        _ = try fs.lookup(path: "nested/innerdir/x.txt")
        #expect(try fs.contents(of: inner.inode) == PublishedMount.Sample.inner)
        _ = try fs.listNames(try fs.lookup(path: "nested/innerdir").inode)
        #expect(fileSystemError { try fs.lookup(nested.inode, "absent") } == .notFound)
        #expect(tree.attached.count == 2)
        #expect(tree.inodeLimit == limit + UInt64(nestedCatalog.catalog.maxRowID))
        #expect(tree.attached.first { $0.mountpoint == "/nested" } === nestedCatalog)
        #expect(mount.session.answer("open catalogs").contains("/nested"))
    }

    @Test("a path two nested catalogs deep attaches both on its first lookup; a sibling attaches on its own")
    func nestedInNested() throws {
        let mount = try Self.mount("tree-deep")
        defer { mount.close() }
        let fs = mount.fileSystem
        let tree = fs.tree
        let g = try fs.lookup(path: "one/two/g.txt")
        #expect(Self.mountpoints(tree) == ["", "/one", "/one/two"])
        #expect(try fs.contents(of: g.inode) == Array("in two\n".utf8))
        #expect(try fs.contents(of: try fs.lookup(path: "one/f.txt").inode) == Array("in one\n".utf8))
        #expect(tree.attached.count == 3)
        _ = try fs.lookup(path: "side/h0.txt")
        #expect(Self.mountpoints(tree) == ["", "/one", "/one/two", "/side"])
        // The mount points list the nested catalogs' content, marker included.
        #expect(try fs.listNames(try fs.lookup(path: "one").inode).dropFirst(2).sorted() == [".cvmfscatalog", "f.txt", "two"])
        #expect(try fs.listNames(try fs.lookup(path: "one/two").inode).dropFirst(2).sorted() == [".cvmfscatalog", "g.txt"])
    }

    @Test("statfs counts every entry of the repository as files, and the entries of catalogs not loaded yet as free")
    func statfsCountsEntries() throws {
        let mount = try Self.mount("tree-statfs")
        defer { mount.close() }
        let fs = mount.fileSystem
        func ownEntries(_ mountpoint: String) throws -> UInt64 {
            let catalog = try #require(fs.tree.attached.first { $0.mountpoint == mountpoint })
            return UInt64(catalog.catalog.statistics.own.entries)
        }
        let before = fs.statfs()
        #expect(before.files > 0)
        #expect(before.freeFiles == before.files - (try ownEntries("")))
        let cache = mount.session.cache.usage()
        #expect(before.blockSize == 512)
        #expect(before.blocks == UInt64(cache.limit) / 512)
        #expect(before.freeBlocks == UInt64(cache.limit - cache.used) / 512)
        _ = try fs.lookup(path: "one/two/g.txt")
        _ = try fs.lookup(path: "side/h0.txt")
        let after = fs.statfs()
        #expect(after.files == before.files)
        let loaded = try ["", "/one", "/one/two", "/side"].map(ownEntries).reduce(0, +)
        #expect(loaded == after.files, "the root catalog's counters add up to the entries of all catalogs")
        #expect(after.freeFiles == 0, "every catalog is loaded")
    }

    @Test("inodes of different catalogs never clash")
    func inodesAreUnique() throws {
        let mount = try Self.mount("tree-inodes")
        defer { mount.close() }
        let fs = mount.fileSystem
        var paths = ["a.txt", "one", "one/.cvmfscatalog", "one/f.txt", "one/two", "one/two/.cvmfscatalog", "one/two/g.txt",
                     "side", "side/.cvmfscatalog"]
        paths += (0..<Self.sideCount).map { "side/h\($0).txt" }
        let inodes = try paths.map { try fs.lookup(path: $0).inode }
        #expect(Set(inodes).count == inodes.count)
        #expect(!inodes.contains(RepositoryFileSystem.root))
        // The same path keeps its inode.
        #expect(try paths.map { try fs.lookup(path: $0).inode } == inodes)
    }

    @Test("many threads entering one nested catalog at once attach it once, and all of them find their entries")
    func concurrentAttach() throws {
        let mount = try Self.mount("tree-race")
        defer { mount.close() }
        let fs = mount.fileSystem
        let side = try fs.lookup(path: "side")
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: Self.sideCount) { index in
            do {
                let found = try fs.lookup(side.inode, "h\(index).txt")
                if try fs.contents(of: found.inode) != Array("side \(index)\n".utf8) {
                    failures.withLock { $0.append("h\(index).txt: wrong content") }
                }
            } catch {
                failures.withLock { $0.append("h\(index).txt: \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(Self.mountpoints(fs.tree) == ["", "/side"])
    }

    @Test("a nested catalog that fails to download leaves the rest usable and attaches once it is served intact")
    func failedAttachIsRetried() throws {
        let mount = try Self.mount("tree-retry")
        defer { mount.close() }
        let fs = mount.fileSystem
        let reference = try #require(fs.tree.root.catalog.nestedCatalog(at: "/one"))
        let hash = try #require(reference.hash)
        let served = mount.servedObject(hash, suffix: .catalog)
        let intact = try Data(contentsOf: URL(fileURLWithPath: served))
        var damaged = [UInt8](intact)
        damaged[damaged.count / 2] ^= 0xFF
        try Data(damaged).write(to: URL(fileURLWithPath: served))

        let one = try fs.lookup(path: "one")
        switch fileSystemError({ try fs.lookup(one.inode, "f.txt") }) {
        case .object(let path, _)?:
            #expect(path == hash.objectPath(suffix: .catalog))
        case let other:
            Issue.record("expected an object error for the nested catalog, got \(String(describing: other))")
        }
        #expect(fs.tree.attached.count == 1)
        #expect(fileSystemError { try fs.listNames(one.inode) } != nil, "its listing fails too")
        // The root catalog keeps serving.
        #expect(try fs.contents(of: try fs.lookup(path: "a.txt").inode) == Array("top\n".utf8))
        #expect(try fs.lookup(path: "side/h1.txt").isRegular)

        // The failure was not remembered as a miss: once served intact, it attaches.
        try intact.write(to: URL(fileURLWithPath: served))
        #expect(try fs.contents(of: try fs.lookup(one.inode, "f.txt").inode) == Array("in one\n".utf8))
        #expect(Self.mountpoints(fs.tree) == ["", "/one", "/side"])
    }
}
