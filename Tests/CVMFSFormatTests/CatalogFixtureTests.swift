import Testing
@testable import CVMFSFormat

@Suite("Catalog reader on the upstream fixture")
struct CatalogFixtureTests {
    let root: Catalog

    init() throws {
        root = try CatalogTestSupport.openFixtureCatalog(CatalogTestSupport.rootCatalogHash)
    }

    @Test("root catalog properties and counters")
    func properties() throws {
        #expect(root.schema == 2.5)
        #expect(root.schemaRevision == 7)
        #expect(root.revision == 1)
        #expect(root.ttl == 240)
        #expect(root.rootPrefix == "")
        #expect(root.isRoot)
        #expect(root.lastModified == 1795703654)
        #expect(root.previousRevision?.description == "d4e635de684cfb6b818b9ce4cc1bdd8ab3510fe9")
        #expect(root.statistics.own.regular == 2028)
        #expect(root.statistics.own.chunks == 9)
        #expect(root.statistics.subtree.regular == 7)
        #expect(root.maxRowID >= 2055)
    }

    @Test("the root entry and /hello.txt")
    func hello() throws {
        let rootEntry = try #require(try root.lookup(path: ""))
        #expect(rootEntry.nameBytes.isEmpty)
        #expect(rootEntry.rowID == 1)
        #expect(rootEntry.isDirectory)
        #expect(rootEntry.parentHash == .null)
        let hello = try #require(try root.lookup(path: "/hello.txt"))
        #expect(hello.name == "hello.txt")
        #expect(hello.size == 18)
        #expect(hello.mode == 0o100644)
        #expect(hello.mtime == 1704164645)
        #expect(hello.mtimeNanoseconds == nil)
        #expect(hello.isRegular)
        #expect(hello.linkCount == 1)
        #expect(hello.compression == .zlib)
        #expect(hello.contentHash?.description == "058dca2f4afaa08a135dc62af2ed255947a89634")
        #expect(hello.parentHash == PathHash(path: ""))
        #expect(try root.lookup(path: "/does-not-exist") == nil)
    }

    @Test("/nested is a mount point in the root and a nested root in the child")
    func nested() throws {
        let mountpoint = try #require(try root.lookup(path: "/nested"))
        #expect(mountpoint.isNestedMountpoint)
        #expect(!mountpoint.isNestedRoot)
        let references = root.nestedCatalogs()
        #expect(references.count == 1)
        let reference = try #require(root.nestedCatalog(at: "/nested"))
        #expect(reference.size == 57344)
        #expect(!reference.isBindMountpoint)
        #expect(root.nestedCatalog(containing: "/nested/inner/x", includeExact: false) == reference)
        #expect(root.nestedCatalog(containing: "/nested", includeExact: false) == nil)
        #expect(root.nestedCatalog(containing: "/nested", includeExact: true) == reference)
        #expect(root.nestedCatalog(containing: "/nestedx/y", includeExact: true) == nil)

        let child = try CatalogTestSupport.openFixtureCatalog(try #require(reference.hash).description)
        #expect(child.rootPrefix == "/nested")
        #expect(child.rootPathHash == PathHash(path: "/nested"))
        #expect(child.previousRevision == nil)
        #expect(child.property("previous_revision") == String(repeating: "0", count: 40))
        let childRoot = try #require(try child.lookup(path: "/nested"))
        #expect(childRoot.isNestedRoot)
        #expect(childRoot.name == "nested")
        #expect(childRoot.parentHash == PathHash(path: ""))
        let inner = try #require(child.nestedCatalogs().first)
        #expect(inner.path == "/nested/inner/deeper")
        let deeper = try CatalogTestSupport.openFixtureCatalog(try #require(inner.hash).description)
        #expect(deeper.rootPrefix == "/nested/inner/deeper")
        let marker = try #require(try deeper.lookup(path: "/nested/inner/deeper/.cvmfscatalog"))
        #expect(marker.isRegular && marker.size == 0)
        let chunked = try #require(try deeper.lookup(path: "/nested/inner/deeper/chunked.bin"))
        #expect(try deeper.chunks(of: chunked).reduce(0) { $0 + $1.size } == chunked.size)
    }

    @Test("/data/random3M.bin is chunked with contiguous chunks")
    func chunked() throws {
        let entry = try #require(try root.lookup(path: "/data/random3M.bin"))
        #expect(entry.isChunked)
        #expect(entry.contentHash == nil)
        #expect(entry.size == 3145728)
        let chunks = try root.chunks(of: entry)
        #expect(chunks.count >= 2)
        #expect(chunks.first?.offset == 0)
        #expect(chunks.reduce(0) { $0 + $1.size } == 3145728)
        for (a, b) in zip(chunks, chunks.dropFirst()) { #expect(a.offset + a.size == b.offset) }
        #expect(try root.chunks(of: try #require(try root.lookup(path: "/hello.txt"))).isEmpty)
    }

    @Test("hard links, xattrs and symlinks")
    func links() throws {
        for name in ["a", "b", "c"] {
            let entry = try #require(try root.lookup(path: "/hardlinks/" + name))
            #expect(entry.linkCount == 3)
            #expect(entry.hardlinkGroup != 0)
        }
        let groups = try ["a", "b", "c"].map { try #require(try root.lookup(path: "/hardlinks/" + $0)).hardlinkGroup }
        #expect(Set(groups).count == 1)

        let file = try #require(try root.lookup(path: "/xattr/file.txt"))
        #expect(file.hasXattrs)
        let xattrs = try #require(try root.xattrs(of: file.pathHash))
        #expect(xattrs.keys == ["user.binary", "user.empty", "user.fixture"])
        #expect(xattrs["user.fixture"] == Array("hello".utf8))
        #expect(xattrs["user.empty"] == [])
        #expect(xattrs["user.binary"] == [0x00, 0xff, 0x10])
        #expect(try root.xattrs(of: PathHash(path: "/hello.txt")) == nil)

        let variant = try #require(try root.lookup(path: "/links/variant_plain"))
        #expect(variant.isSymlink)
        #expect(variant.symlink == "$(CVMFS_FIXTURE_ARCH)")
        #expect(variant.contentHash == nil)
        #expect(SymlinkExpander.expand(variant.symlink) { $0 == "CVMFS_FIXTURE_ARCH" ? "x86_64" : nil } == "x86_64")
    }

    @Test("listing /many gives 2000 entries")
    func many() throws {
        let children = try root.children(of: PathHash(path: "/many"))
        #expect(children.count == 2000)
        #expect(Set(children.map(\.name)).count == 2000)
        #expect(children.map(\.rowID) == children.map(\.rowID).sorted())
        var count = 0
        try root.forEachChild(of: PathHash(path: "")) { _ in count += 1 }
        #expect(count > 5)
    }
}
