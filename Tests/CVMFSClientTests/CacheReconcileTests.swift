import Foundation
import Testing
@testable import CVMFSClient
import CVMFSFormat

@Suite("Object cache crash recovery and layout")
struct CacheReconcileTests {
    /// Fills three objects in a cache that is closed again on return.
    func fill(_ dir: CacheTempDirectory) throws -> [CacheTestObject] {
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.databaseRecreated)
        let objects = (0..<3).map { CacheTestObject(size: 20_000, seed: UInt8($0)) }
        for object in objects {
            try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular, download: object.serve).close()
        }
        try #require(try cache.open(objects[0].hash)).close()
        cache.close()
        return objects
    }

    @Test("the layout is created with mode 0700, buckets as objects land, and a clean reopen repairs nothing")
    func layout() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let objects = try fill(dir)
        let fm = FileManager.default
        for sub in ["txn", "quarantaine", ".cvmfscache", "cachedb"] {
            #expect(fm.fileExists(atPath: dir.path + "/" + sub), "\(sub)")
        }
        let buckets = Set(objects.map { String($0.hash.cachePath.prefix(2)) })
        for bucket in buckets {
            let mode = (try fm.attributesOfItem(atPath: dir.path + "/" + bucket)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o700, "bucket \(bucket)")
        }
        let unused = (0..<256).map { String(format: "%02x", $0) }.first { !buckets.contains($0) }!
        #expect(!fm.fileExists(atPath: dir.path + "/" + unused), "bucket \(unused) is made only when an object lands in it")
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.isClean, "\(cache.reconcileReport)")
        // The touch of objects[0] was flushed: it is now the most recently used.
        #expect(cache.list().map(\.hash) == [objects[1].hash, objects[2].hash, objects[0].hash])
    }

    @Test("after a crash, a deleted file drops its row and a stray txn file is removed")
    func deletedFileAndStrayTemp() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let objects = try fill(dir)
        try FileManager.default.removeItem(atPath: dir.path + "/" + objects[1].hash.cachePath)
        FileManager.default.createFile(atPath: dir.path + "/txn/fetchABCDEF", contents: Data([1, 2, 3]))
        // The crash guard a killed client leaves behind.
        FileManager.default.createFile(atPath: dir.path + "/running.cvmfs-swift", contents: nil)
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.droppedRows == 1)
        #expect(cache.reconcileReport.removedTempFiles == 1)
        #expect(dir.files(in: "txn").isEmpty)
        #expect(Set(cache.list().map(\.hash)) == [objects[0].hash, objects[2].hash])
        #expect(cache.usage().used == 40_000)
    }

    @Test("after a clean shutdown the database is trusted; a file deleted meanwhile is a miss, not an error")
    func cleanShutdownSkipsTheScan() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let objects = try fill(dir)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/running.cvmfs-swift"))
        try FileManager.default.removeItem(atPath: dir.path + "/" + objects[1].hash.cachePath)
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.droppedRows == 0)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/running.cvmfs-swift"))
        #expect(try cache.open(objects[1].hash) == nil)
        #expect(Set(cache.list().map(\.hash)) == [objects[0].hash, objects[2].hash])
        cache.close()
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/running.cvmfs-swift"))
    }

    @Test("a deleted cachedb is rebuilt from the files on disk")
    func deletedDatabase() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let objects = try fill(dir)
        try FileManager.default.removeItem(atPath: dir.path + "/cachedb")
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.databaseRecreated)
        #expect(cache.reconcileReport.addedFiles == 3)
        #expect(Set(cache.list().map(\.hash)) == Set(objects.map(\.hash)))
        #expect(cache.usage().used == 60_000)
        #expect(try cacheReadAll(try #require(try cache.open(objects[2].hash))) == objects[2].plain)
    }

    @Test("a corrupt cachedb is replaced and rebuilt")
    func corruptDatabase() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        _ = try fill(dir)
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: dir.path + "/cachedb"))
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.databaseRecreated)
        #expect(cache.reconcileReport.addedFiles == 3)
    }

    @Test("breadcrumbs round-trip, and old ones without a revision read as revision 0")
    func breadcrumb() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let directory = try CacheDirectory(path: dir.path)
        #expect(try directory.readBreadcrumb(fqrn: "a.b.c") == nil)
        let hash = CacheTestObject(size: 10).hash
        let crumb = CacheBreadcrumb(catalogHash: hash, timestamp: 1_718_000_000, revision: 4711)
        try directory.writeBreadcrumb(crumb, fqrn: "a.b.c")
        #expect(try String(contentsOfFile: dir.path + "/cvmfschecksum.a.b.c", encoding: .utf8) == "\(hash.hex)T1718000000R4711")
        #expect(try directory.readBreadcrumb(fqrn: "a.b.c") == crumb)
        #expect(CacheBreadcrumb(text: "\(hash.hex)T17") == CacheBreadcrumb(catalogHash: hash, timestamp: 17, revision: 0))
        #expect(CacheBreadcrumb(text: "nonsense") == nil)
    }

    /// Sets one column of the first `cache_catalog` row of a closed cache.
    func corrupt(_ dir: CacheTempDirectory, _ assignment: String) throws {
        let db = try SQLiteDatabase(path: dir.path + "/cachedb", mode: .readWriteCreate)
        try db.execute("UPDATE cache_catalog SET \(assignment) WHERE rowid = (SELECT MIN(rowid) FROM cache_catalog)")
    }

    @Test("a cachedb row with an impossible access sequence or size makes a private cache rebuild cachedb from the files (fuzz finding, was an overflow trap)",
          arguments: ["acseq = 9223372036854775807", "size = -1", "size = 9223372036854775807"])
    func impossibleRowRebuilds(assignment: String) throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let objects = try fill(dir)
        try corrupt(dir, assignment)
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        #expect(cache.reconcileReport.databaseRecreated)
        #expect(Set(cache.list().map(\.hash)) == Set(objects.map(\.hash)))
        #expect(cache.usage().used == 3 * 20_000)
    }

    @Test("a shared cache refuses such a cachedb with a message that names the row and the value")
    func impossibleRowShared() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        _ = try fill(dir)
        try corrupt(dir, "acseq = 9223372036854775807")
        #expect {
            _ = try ObjectCache(path: dir.path, limit: 10 << 20, shared: true)
        } throws: { error in
            "\(error)".contains("has access sequence 9223372036854775807, outside 0...4611686018427387904")
        }
    }
}
