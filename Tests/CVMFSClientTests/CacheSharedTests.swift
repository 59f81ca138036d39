import Foundation
import Glibc
import Testing
@testable import CVMFSClient
import CVMFSFormat

/// Two `ObjectCache`s on one directory stand in for two processes: flocks
/// belong to open file descriptions, so they exclude each other the same way.
@Suite("Shared object cache")
struct CacheSharedTests {
    static let limit: Int64 = 1 << 20

    func fill(_ cache: ObjectCache, _ object: CacheTestObject, pin: Bool = false) throws {
        try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular, pin: pin, download: object.serve).close()
    }

    @Test("two caches open one directory at once, and an object one filled is a hit in the other")
    func twoOpeners() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let object = CacheTestObject(size: 50_000)
        try fill(a, object)
        var downloads = 0
        let fd = try b.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular) { (sink) throws(DownloadError) in
            downloads += 1
            try object.serve(sink)
        }
        #expect(downloads == 0)
        #expect(try cacheReadAll(fd) == object.plain)
        #expect(b.usage().used == 50_000)
        #expect(a.usage().used == 50_000)
    }

    @Test("eviction by one cache never deletes an object the other has pinned, and the quota holds")
    func pinnedAcrossCaches() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let held = CacheTestObject(size: 100_000, seed: 200)
        try fill(a, held, pin: true)
        for i in 0..<25 {
            try fill(i % 2 == 0 ? b : a, CacheTestObject(size: 100_000, seed: UInt8(i)))
            #expect(dir.diskUsage() <= Self.limit)
        }
        #expect(b.cleanup(toBytes: 0) == false)
        let listed = b.list()
        #expect(listed.map(\.hash) == [held.hash])
        #expect(listed.first?.pinned == true)
        #expect(try cacheReadAll(try #require(try a.open(held.hash))) == held.plain)
        a.unpin(held.hash)
        #expect(b.cleanup(toBytes: 0))
        #expect(dir.diskUsage() == 0)
    }

    @Test("the quota counts the objects of both caches")
    func quotaIsShared() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        for i in 0..<30 {
            try fill(i % 3 == 0 ? a : b, CacheTestObject(size: 90_000, seed: UInt8(i)))
            #expect(dir.diskUsage() <= Self.limit)
            #expect(a.usage().used == dir.diskUsage())
        }
    }

    @Test("a reservation left by a dead process is dropped when space runs out")
    func deadReservation() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        // pid 0x7ffffff0 does not exist; its reservation takes the whole quota.
        try a.state.withLock { (s) throws(CacheError) in
            try (s.ledger as! SharedCacheLedger).database.execute("INSERT INTO reservation (owner, pid, bytes) VALUES (1, 2147483632, \(Self.limit))")
        }
        let object = CacheTestObject(size: 100_000)
        try fill(a, object)
        #expect(try a.open(object.hash) != nil)
    }

    @Test("opening keeps a temp file another cache is writing and removes an abandoned one")
    func tempFiles() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let abandoned = dir.path + "/txn/fetchABANDN"
        FileManager.default.createFile(atPath: abandoned, contents: Data([1, 2, 3]))
        let object = CacheTestObject(size: 20_000)
        var survived = false
        try a.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular) { (sink) throws(DownloadError) in
            try object.serve(sink)
            // Another process opens the cache while this download is in progress.
            let b = try? ObjectCache(path: dir.path, limit: Self.limit, shared: true)
            survived = dir.files(in: "txn").count == 1
            #expect(b?.reconcileReport.removedTempFiles == 1)
        }.close()
        #expect(survived)
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(try a.open(object.hash) != nil)
    }

    @Test("a cache reopened after its process died reuses what is on disk")
    func reopenAfterCrash() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let objects = (0..<3).map { CacheTestObject(size: 30_000, seed: UInt8($0)) }
        do {
            let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
            for object in objects { try fill(a, object, pin: true) }
            // No close(): pins and unflushed touches are lost, as with kill -9.
        }
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        #expect(b.reconcileReport.droppedRows == 0 && b.reconcileReport.addedFiles == 0)
        for object in objects { #expect(try cacheReadAll(try #require(try b.open(object.hash))) == object.plain) }
        #expect(b.cleanup(toBytes: 0))
    }
}
