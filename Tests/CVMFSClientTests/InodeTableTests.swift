import Foundation
import Testing
@testable import CVMFSClient
import CVMFSFormat

@Suite("Inode table")
struct InodeTableTests {
    static let root: UInt64 = 1

    /// A mounted catalog for the records to point at (the table never reads it).
    static func mountedCatalog() throws -> (MountedCatalog, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inode-table-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("root.db").path
        let writer = try CatalogWriter(path: file, revision: 1, lastModified: 1)
        try writer.add(path: "", entry: DirectoryEntry(name: [], mode: 0o040755, linkCount: 2))
        _ = try writer.finish(subtree: CatalogCounters())
        let hash = ContentHash(printable: "058dca2f4afaa08a135dc62af2ed255947a89634")!
        // A provider that is never asked for anything: the catalog's unpin finds nothing pinned.
        let cache = try ObjectCache(path: dir.appendingPathComponent("cache").path, limit: 1 << 20)
        let provider = CachedObjectProvider(cache: cache, downloader: try Downloader(settings: .test(hosts: ["http://127.0.0.1:9"])))
        let mounted = MountedCatalog(catalog: try Catalog(path: file), hash: hash, mountpoint: "", inodeOffset: 0,
                                     provider: provider, census: CatalogCensus())
        return (mounted, dir)
    }

    static func record(parent: UInt64, catalog: MountedCatalog, type: UInt8) -> InodeRecord {
        InodeRecord(parent: parent, pathHash: PathHash(high: Int64(parent), low: 0), catalog: catalog, flags: [], type: type)
    }

    /// A table holding the root as the file system does (two references, never forgotten).
    static func tableWithRoot(_ catalog: MountedCatalog) -> InodeTable {
        var table = InodeTable()
        table.remember(root, record(parent: root, catalog: catalog, type: 0o04),
                       name: UnsafeRawBufferPointer(start: nil, count: 0), count: 2)
        return table
    }

    static func remember(_ table: inout InodeTable, _ inode: UInt64, _ record: InodeRecord, _ name: String) {
        Array(name.utf8).withUnsafeBytes { table.remember(inode, record, name: $0) }
    }

    @Test("paths come back from the parent chain across pages, forgotten inodes go, names survive compaction")
    func pathsAndForgets() throws {
        let (catalog, dir) = try Self.mountedCatalog()
        defer { try? FileManager.default.removeItem(at: dir) }
        var table = Self.tableWithRoot(catalog)
        // 10 directories of 300 files: 3010 inodes over several 1024-slot pages.
        var expected: [UInt64: String] = [:]
        for d in 0..<10 {
            let directory = UInt64(2 + d)
            Self.remember(&table, directory, Self.record(parent: Self.root, catalog: catalog, type: 0o04), "dir\(d)")
            expected[directory] = "/dir\(d)"
            for f in 0..<300 {
                let inode = UInt64(100 + d * 300 + f)
                Self.remember(&table, inode, Self.record(parent: directory, catalog: catalog, type: 0o10), "file-\(d)-\(f).txt")
                expected[inode] = "/dir\(d)/file-\(d)-\(f).txt"
            }
        }
        #expect(table.count == 3011)
        #expect(table.path(of: Self.root, root: Self.root).isEmpty)
        #expect(expected.allSatisfy { String(decoding: table.path(of: $0.key, root: Self.root), as: UTF8.self) == $0.value })
        #expect(table[2100]?.isRegular == true && table[2100]?.parent == 8)
        #expect(table[5] != nil && table[5]!.isDirectory)

        // Two of every three files forgotten: their names are compacted away.
        for (inode, _) in expected where inode >= 100 && inode % 3 != 0 {
            table.forget(inode, count: 1)
            expected[inode] = nil
        }
        #expect(table.count == expected.count + 1)
        #expect(expected.allSatisfy { String(decoding: table.path(of: $0.key, root: Self.root), as: UTF8.self) == $0.value })
        #expect(table[101] == nil)
        var listed: [UInt64: String] = [:]
        table.forEach { inode, parent, name in
            guard inode != Self.root else { return }
            let parentPath = String(decoding: table.path(of: parent, root: Self.root), as: UTF8.self)
            listed[inode] = parentPath + "/" + String(decoding: name, as: UTF8.self)
        }
        #expect(listed == expected)
    }

    @Test("lookup counts add up and the record goes with the last reference; a second name keeps the first")
    func countsAndHardlinks() throws {
        let (catalog, dir) = try Self.mountedCatalog()
        defer { try? FileManager.default.removeItem(at: dir) }
        var table = Self.tableWithRoot(catalog)
        Self.remember(&table, 10, Self.record(parent: Self.root, catalog: catalog, type: 0o04), "a")
        Self.remember(&table, 11, Self.record(parent: Self.root, catalog: catalog, type: 0o04), "b")
        Self.remember(&table, 50, Self.record(parent: 10, catalog: catalog, type: 0o10), "link1")
        Self.remember(&table, 50, Self.record(parent: 11, catalog: catalog, type: 0o10), "link2")
        #expect(table.lookups(of: 50) == 2)
        #expect(String(decoding: table.path(of: 50, root: Self.root), as: UTF8.self) == "/a/link1")
        table.forget(50, count: 1)
        #expect(table[50] != nil)
        table.forget(50, count: 1)
        #expect(table[50] == nil)
        #expect(table.lookups(of: 50) == 0)
        // A forget for more than is held drops the record; one for an unknown inode changes nothing.
        Self.remember(&table, 60, Self.record(parent: 10, catalog: catalog, type: 0o12), "s")
        table.forget(60, count: 5)
        table.forget(61, count: 1)
        #expect(table[60] == nil)
        #expect(table.count == 3)
    }
}
