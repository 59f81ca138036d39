import Foundation
import Testing
@testable import CVMFSClient
import CVMFSFormat

@Suite("Object cache quota")
struct CacheQuotaTests {
    static let limit: Int64 = 1 << 20

    @Test("LRU eviction keeps usage within the limit while reading twice the quota")
    func evictionKeepsLimit() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: Self.limit)
        let objects = (0..<21).map { CacheTestObject(size: 100_000, seed: UInt8($0)) }
        for (i, object) in objects.enumerated() {
            // Half of the objects have an unknown size (like catalogs): the reservation grows.
            let size: Int64? = i % 2 == 0 ? Int64(object.plain.count) : nil
            let fd = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: size, kind: i % 2 == 0 ? .regular : .catalog) { (sink) throws(DownloadError) in
                try object.serve(sink)
                #expect(dir.diskUsage() <= Self.limit)
                #expect(cache.usage().used + cache.reservedBytes <= Self.limit)
            }
            #expect(try cacheReadAll(fd) == object.plain)
            #expect(dir.diskUsage() <= Self.limit)
            #expect(cache.usage().used <= Self.limit)
        }
        // The oldest objects went first; the newest is still there.
        #expect(try cache.open(objects[0].hash) == nil)
        let newest = try #require(try cache.open(objects[20].hash))
        newest.close()
        #expect(cache.usage().used == dir.diskUsage())
    }

    @Test("a recently used object survives eviction (LRU, not FIFO)")
    func touchedSurvives() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: Self.limit)
        let objects = (0..<12).map { CacheTestObject(size: 100_000, seed: UInt8($0)) }
        for object in objects {
            try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular, download: object.serve).close()
            try #require(try cache.open(objects[0].hash)).close()
        }
        #expect(try cache.open(objects[0].hash) != nil)
        #expect(try cache.open(objects[1].hash) == nil)
    }

    @Test("pinned objects are never evicted")
    func pinnedSurvive() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: Self.limit)
        let pinned = (0..<2).map { CacheTestObject(size: 100_000, seed: UInt8(100 + $0)) }
        try cache.fetch(hash: pinned[0].hash, compression: .zlib, expectedSize: nil, kind: .catalog, pin: true, download: pinned[0].serve).close()
        try cache.fetch(hash: pinned[1].hash, compression: .zlib, expectedSize: nil, kind: .regular, download: pinned[1].serve).close()
        try cache.pin(pinned[1].hash)
        #expect(cache.usage().pinned == 200_000)
        for i in 0..<25 {
            let object = CacheTestObject(size: 100_000, seed: UInt8(i))
            try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular, download: object.serve).close()
            #expect(dir.diskUsage() <= Self.limit)
        }
        #expect(cache.cleanup(toBytes: 0) == false)
        #expect(Set(cache.list().map(\.hash)) == Set(pinned.map(\.hash)))
        for object in pinned { #expect(try cacheReadAll(try #require(try cache.open(object.hash))) == object.plain) }
        cache.unpin(pinned[1].hash)
        #expect(cache.cleanup(toBytes: 100_000))
        #expect(cache.list().map(\.hash) == [pinned[0].hash])
    }

    @Test("an object bigger than half the quota is refused with objectTooLarge")
    func tooLarge() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: Self.limit)
        let object = CacheTestObject(size: 600_000)
        var calls = 0
        #expect(throws: CacheError.objectTooLarge(hash: object.hash, size: 600_000, limit: Self.limit)) {
            _ = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: 600_000, kind: .regular) { _ in calls += 1 }
        }
        #expect(calls == 0)
        // Unknown size: refused while streaming, and the temp file is removed.
        #expect {
            _ = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .catalog, download: object.serve)
        } throws: { error in
            guard let error = error as? CacheError, case .objectTooLarge = error else { return false }
            return error.isNoSpace
        }
        #expect(dir.files(in: "txn").isEmpty)
        #expect(cache.reservedBytes == 0)
        #expect(dir.diskUsage() == 0)
    }

    @Test("a fill whose pin is refused is still cached, unpinned, and its reservation is used once")
    func pinRefusedAtCommit() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: Self.limit)
        // Two pinned objects of 300,000 bytes leave less than 300,000 of the 524,288-byte pin limit.
        let pinned = [CacheTestObject(size: 300_000, seed: 1), CacheTestObject(size: 200_000, seed: 2)]
        for object in pinned {
            _ = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: Int64(object.plain.count),
                                kind: .regular, pin: true, download: object.serve)
        }
        let third = CacheTestObject(size: 100_000, seed: 3)
        #expect {
            _ = try cache.fetch(hash: third.hash, compression: .zlib, expectedSize: Int64(third.plain.count),
                                kind: .regular, pin: true, download: third.serve)
        } throws: { error in
            guard let error = error as? CacheError, case .pinLimitExceeded = error else { return false }
            return true
        }
        #expect(cache.reservedBytes == 0, "the reservation became used once, not given back twice")
        #expect(cache.usage().used == 600_000)
        let fd = try #require(try cache.open(third.hash), "the object is cached, unpinned")
        #expect(try cacheReadAll(fd) == third.plain)
    }

    @Test("an unmanaged cache (limit -1) has no database and evicts nothing")
    func unmanaged() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: -1)
        let object = CacheTestObject(size: 600_000)
        try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular, download: object.serve).close()
        #expect(try cache.open(object.hash) != nil)
        #expect(cache.usage().limit == -1)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/cachedb"))
        #expect(cache.list().map(\.hash) == [object.hash])
    }
}
