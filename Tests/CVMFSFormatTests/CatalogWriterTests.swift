import Foundation
import Testing
@testable import CVMFSFormat

@Suite("Catalog writer round trip")
struct CatalogWriterTests {
    static let hashA = ContentHash(printable: "058dca2f4afaa08a135dc62af2ed255947a89634")!
    static let hashB = ContentHash(printable: "69bf95b12cdbc0c02386ca49c3c8273e886d26b9-rmd160")!

    /// Writes a root catalog holding every entry kind; returns its file.
    static func writeSample(in dir: URL) throws -> (String, CatalogStatistics) {
        let file = dir.appendingPathComponent("root.db").path
        let writer = try CatalogWriter(path: file, revision: 5, previousRevision: hashA, lastModified: 1700000000, ttl: 60)
        try writer.add(path: "", entry: DirectoryEntry(name: [], mode: 0o040755, size: 4096, mtime: 1, linkCount: 4))
        var xattrs = XattrList()
        xattrs.set("user.b", [1, 2])
        xattrs.set("user.a", [])
        try writer.add(path: "/a.txt", entry: DirectoryEntry(name: [], mode: 0o100644, size: 18, mtime: 2, mtimeNanoseconds: 123, uid: 7, gid: 8,
                                                              compression: .none, contentHash: hashA), xattrs: xattrs)
        let chunks = [FileChunk(offset: 0, size: 10, hash: hashB), FileChunk(offset: 10, size: 5, hash: hashB)]
        try writer.add(path: "/b.bin", entry: DirectoryEntry(name: [], mode: 0o100600, size: 15, hashAlgorithm: .rmd160), chunks: chunks)
        try writer.add(path: "/dir", entry: DirectoryEntry(name: [], mode: 0o040700, linkCount: 2, flags: .hidden))
        try writer.add(path: "/dir/h1", entry: DirectoryEntry(name: [], mode: 0o100644, size: 1, linkCount: 2, hardlinkGroup: 1, contentHash: hashA))
        try writer.add(path: "/dir/h2", entry: DirectoryEntry(name: [], mode: 0o100644, size: 1, linkCount: 2, hardlinkGroup: 1, contentHash: hashA))
        try writer.add(path: "/fifo", entry: DirectoryEntry(name: [], mode: 0o010644))
        try writer.add(path: "/link", entry: DirectoryEntry(name: [], mode: 0o120777, symlink: Array("$(ARCH)/x".utf8)))
        try writer.add(path: "/sub", entry: DirectoryEntry(name: [], mode: 0o040755, linkCount: 2, flags: .nestedMountpoint))
        try writer.addNestedCatalog(path: "/sub", hash: hashA, size: 4096)
        var subtree = CatalogCounters()
        subtree.regular = 3
        let stats = try writer.finish(subtree: subtree)
        return (file, stats)
    }

    @Test("every entry kind survives a write and a read")
    func roundTrip() throws {
        let dir = try CatalogTestSupport.scratchDirectory()
        let (file, written) = try Self.writeSample(in: dir)
        let catalog = try Catalog(path: file)
        #expect(catalog.schema == 2.5 && catalog.schemaRevision == 7)
        #expect(catalog.revision == 5 && catalog.ttl == 60 && catalog.lastModified == 1700000000)
        #expect(catalog.previousRevision == Self.hashA)
        #expect(catalog.statistics == written)
        #expect(written.own.regular == 4 && written.own.dir == 3 && written.own.symlink == 1 && written.own.special == 1)
        #expect(written.own.chunked == 1 && written.own.chunks == 2 && written.own.chunkedSize == 15 && written.own.fileSize == 35)
        #expect(written.own.xattr == 1 && written.own.nested == 1)
        #expect(catalog.maxRowID == 9)

        let root = try #require(try catalog.lookup(path: ""))
        #expect(root.rowID == 1 && root.parentHash == .null && root.linkCount == 4 && root.flags.rawValue == 1)
        let a = try #require(try catalog.lookup(path: "/a.txt"))
        #expect(a.name == "a.txt" && a.size == 18 && a.mtime == 2 && a.mtimeNanoseconds == 123 && a.uid == 7 && a.gid == 8)
        #expect(a.compression == .none && a.contentHash == Self.hashA && a.flags.rawValue == 2052 && a.hasXattrs)
        let x = try #require(try catalog.xattrs(of: a.pathHash))
        #expect(x.keys == ["user.a", "user.b"] && x["user.b"] == [1, 2])
        let b = try #require(try catalog.lookup(path: "/b.bin"))
        #expect(b.isChunked && b.contentHash == nil && b.hashAlgorithm == .rmd160 && b.flags.rawValue == 324)
        #expect(try catalog.chunks(of: b).map(\.size) == [10, 5])
        let h1 = try #require(try catalog.lookup(path: "/dir/h1"))
        #expect(h1.hardlinkGroup == 1 && h1.linkCount == 2)
        let link = try #require(try catalog.lookup(path: "/link"))
        #expect(link.flags.rawValue == 12 && link.symlink == "$(ARCH)/x" && link.size == 9)
        #expect(try #require(try catalog.lookup(path: "/fifo")).flags.rawValue == 20)
        #expect(try #require(try catalog.lookup(path: "/sub")).flags.rawValue == 3)
        #expect(catalog.nestedCatalog(at: "/sub") == NestedCatalogReference(path: "/sub", hash: Self.hashA, size: 4096))

        let listing = try catalog.children(of: PathHash(path: ""))
        #expect(listing.map(\.name) == ["a.txt", "b.bin", "fifo", "link", "sub"])  // /dir is hidden
        #expect(try catalog.children(of: PathHash(path: ""), includeHidden: true).map(\.name) == ["a.txt", "b.bin", "dir", "fifo", "link", "sub"])
    }

    @Test("a nested catalog gets root_prefix and the null previous revision")
    func nestedProperties() throws {
        let file = try CatalogTestSupport.scratchDirectory().appendingPathComponent("n.db").path
        let writer = try CatalogWriter(path: file, rootPrefix: "/sub", revision: 1, lastModified: 5)
        try writer.add(path: "/sub", entry: DirectoryEntry(name: [], mode: 0o040755, flags: .nestedRoot))
        try writer.finish()
        let catalog = try Catalog(path: file)
        #expect(catalog.rootPrefix == "/sub" && catalog.property("TTL") == nil && catalog.ttl == 240)
        #expect(catalog.property("previous_revision") == String(repeating: "0", count: 40) && catalog.previousRevision == nil)
        let root = try #require(try catalog.lookup(path: "/sub"))
        #expect(root.isNestedRoot && root.parentHash == PathHash(path: ""))
    }

    @Test("bad paths and out-of-order siblings are refused")
    func refusals() throws {
        let file = try CatalogTestSupport.scratchDirectory().appendingPathComponent("r.db").path
        let writer = try CatalogWriter(path: file, revision: 1, lastModified: 5)
        #expect(throws: CatalogError.self) { try writer.add(path: "/x", entry: DirectoryEntry(name: [], mode: 0o100644)) }
        try writer.add(path: "", entry: DirectoryEntry(name: [], mode: 0o040755))
        try writer.add(path: "/b", entry: DirectoryEntry(name: [], mode: 0o100644))
        #expect(throws: CatalogError.self) { try writer.add(path: "/a", entry: DirectoryEntry(name: [], mode: 0o100644)) }
        #expect(throws: CatalogError.self) { try writer.add(path: "/..", entry: DirectoryEntry(name: [], mode: 0o100644)) }
        #expect(throws: CatalogError.self) { try writer.add(path: "/c/", entry: DirectoryEntry(name: [], mode: 0o100644)) }
        let gap = [FileChunk(offset: 0, size: 1, hash: Self.hashA), FileChunk(offset: 2, size: 1, hash: Self.hashA)]
        #expect(throws: CatalogError.self) { try writer.add(path: "/z", entry: DirectoryEntry(name: [], mode: 0o100644, size: 3), chunks: gap) }
    }

    @Test("100k entries are written and looked up quickly")
    func bulk() throws {
        let file = try CatalogTestSupport.scratchDirectory().appendingPathComponent("big.db").path
        let writer = try CatalogWriter(path: file, revision: 1, lastModified: 5)
        try writer.add(path: "", entry: DirectoryEntry(name: [], mode: 0o040755))
        let names = (0..<100_000).map { "f\($0)" }.sorted()
        let clock = ContinuousClock()
        let writeTime = try clock.measure {
            for name in names {
                try writer.add(path: "/" + name, entry: DirectoryEntry(name: [], mode: 0o100644, size: 1, contentHash: Self.hashA))
            }
            try writer.finish()
        }
        let catalog = try Catalog(path: file)
        let hashes = names.prefix(20_000).map { PathHash(path: "/" + $0) }
        var found = 0
        let lookupTime = try clock.measure {
            for hash in hashes where try catalog.lookup(hash) != nil { found += 1 }
        }
        #expect(found == hashes.count)
        print("wrote 100k entries in \(writeTime); 20k lookups in \(lookupTime)")
    }
}
