import Dispatch
import Foundation
import Synchronization
import Testing
@testable import CVMFSClient
import CVMFSFormat

@Suite("Object cache")
struct CacheTests {
    @Test("a filled object is a hit afterwards and reads back inflated")
    func hitAfterFill() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 300_000)
        #expect(try cache.open(object.hash) == nil)
        let fd = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: Int64(object.plain.count),
                                 kind: .regular, download: object.serve)
        #expect(try cacheReadAll(fd) == object.plain)
        let hit = try #require(try cache.open(object.hash))
        #expect(try cacheReadAll(hit) == object.plain)
        var calls = 0
        let again = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular) { _ in calls += 1 }
        again.close()
        #expect(calls == 0)
        #expect(cache.usage().used == Int64(object.plain.count))
        #expect(dir.files(in: "txn").isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/" + object.hash.cachePath))
    }

    @Test("corrupt bytes never enter the cache and the temp file is removed")
    func corruptBytes() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 50_000)
        var bad = object.stored
        bad[bad.count / 2] ^= 0x55
        #expect {
            _ = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular,
                                download: CacheTestObject.serve(bad))
        } throws: { error in
            guard case CacheError.verificationFailed(let hash, _) = error else { return false }
            return hash == object.hash
        }
        #expect(try cache.open(object.hash) == nil)
        #expect(dir.files(in: "txn").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/" + object.hash.cachePath))
        #expect(cache.usage().used == 0)
        #expect(cache.reservedBytes == 0)
    }

    @Test("a retry resets the sink: bad bytes then good bytes fill the cache")
    func resetAndReplay() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 80_000)
        var bad = object.stored
        bad[10] ^= 0x01
        let fd = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: Int64(object.plain.count), kind: .chunk) { (sink) throws(DownloadError) in
            do { try CacheTestObject.serve(bad)(sink) } catch {
                do { try sink.reset() } catch { throw .sinkReset(url: "test://object", reason: "\(error)") }
                try CacheTestObject.serve(object.stored)(sink)
            }
        }
        #expect(try cacheReadAll(fd) == object.plain)
        #expect(cache.list().map(\.kind) == [.chunk])
    }

    @Test("a size mismatch fails and leaves a copy in quarantaine/")
    func sizeMismatch() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 10_000)
        #expect(throws: CacheError.verificationFailed(hash: object.hash, reason: .sizeMismatch(object: object.hash, expected: 10_001, actual: 10_000))) {
            _ = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: 10_001, kind: .regular, download: object.serve)
        }
        #expect(dir.files(in: "quarantaine") == [object.hash.description])
        #expect(dir.files(in: "txn").isEmpty)
        #expect(try cache.open(object.hash) == nil)
    }

    @Test("a body far longer than the object is cut off as it arrives: nothing stored, nothing left in txn/", arguments: [Compression.zlib, .none])
    func overlongBodyCutOff(compression: Compression) throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 20_000, compression: compression)
        let piece = [UInt8](repeating: 0xA5, count: 4096)
        var accepted = 0
        // The object, then up to 64 MiB of garbage, 4 KiB at a time, stopping at the first refusal.
        let download = { (sink: any ObjectSink) throws(DownloadError) -> Void in
            do {
                try object.stored.withUnsafeBytes { try sink.write($0) }
                for _ in 0..<(64 << 20) / piece.count {
                    try piece.withUnsafeBytes { try sink.write($0) }
                    accepted += 1
                }
                try sink.finish()
            } catch {
                throw .badData(url: "test://object", host: "test://", proxy: .direct, reason: "\(error)")
            }
        }
        // The sink's own refusal comes back, naming the object.
        #expect(throws: CacheError.self) {
            _ = try cache.fetch(hash: object.hash, compression: compression, expectedSize: 20_000, kind: .regular, download: download)
        }
        #expect(accepted == 0)
        #expect(dir.files(in: "txn").isEmpty)
        #expect(try cache.open(object.hash) == nil)
    }

    @Test("a cached copy whose length differs from the expected size is removed and fetched again")
    func wrongLengthOnDiskRefetched() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 50_000)
        let size = Int64(object.plain.count)
        try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: size, kind: .regular, download: object.serve).close()
        #expect(truncate(cache.directory.objectPath(object.hash), 49_000) == 0)
        var downloads = 0
        let fd = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: size, kind: .regular) { (sink) throws(DownloadError) in
            downloads += 1
            try object.serve(sink)
        }
        #expect(downloads == 1)
        #expect(try cacheReadAll(fd) == object.plain)
        // Without a size to compare (catalogs, certificates) the copy is taken as it is.
        #expect(truncate(cache.directory.objectPath(object.hash), 49_000) == 0)
        let unchecked = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular) { (_) throws(DownloadError) in
            Issue.record("fetched although cached")
        }
        #expect(try cacheReadAll(unchecked).count == 49_000)
    }

    @Test("16 concurrent fetches of one object run the download once")
    func concurrentFetches() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 200_000)
        let calls = Atomic<Int>(0)
        let successes = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            do {
                let fd = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: Int64(object.plain.count), kind: .regular) { (sink) throws(DownloadError) in
                    calls.add(1, ordering: .relaxed)
                    usleep(200_000)
                    try CacheTestObject.serve(object.stored)(sink)
                }
                if try cacheReadAll(fd) == object.plain { successes.add(1, ordering: .relaxed) }
            } catch {
                Issue.record("fetch failed: \(error)")
            }
        }
        #expect(calls.load(ordering: .relaxed) == 1)
        #expect(successes.load(ordering: .relaxed) == 16)
    }

    @Test("waiters get the producer's error, and nothing is cached")
    func concurrentFailure() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let cache = try ObjectCache(path: dir.path, limit: 10 << 20)
        let object = CacheTestObject(size: 1_000)
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do {
                _ = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular) { (_) throws(DownloadError) in
                    usleep(100_000)
                    throw DownloadError.hostHTTP(url: "http://stratum1/x", host: "http://stratum1", proxy: .direct, status: 503)
                }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 8)
        #expect(cache.list().isEmpty)
    }
}
