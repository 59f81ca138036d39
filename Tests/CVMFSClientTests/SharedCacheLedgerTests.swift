import Foundation
import Glibc
import Testing
@testable import CVMFSClient
import CVMFSFormat

/// The shared cache's bookkeeping (`SharedCacheLedger`) as two processes see
/// it, with two `ObjectCache(shared: true)` on one directory standing in for
/// them. What `CacheSharedTests` covers (hits across caches, the shared
/// quota, a pin taken by the filler) is not repeated: these are evictions
/// seen by the other cache, pins taken through a hit, the shared LRU order and
/// reservations of fills in progress.
@Suite("Shared cache ledger between two caches")
struct SharedCacheLedgerTests {
    static let limit: Int64 = 1 << 20

    static func fill(_ cache: ObjectCache, _ object: CacheTestObject, pin: Bool = false) throws {
        try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular, pin: pin, download: object.serve).close()
    }

    /// Whether `cache` has the object (a hit opens it; the descriptor is closed again).
    static func has(_ cache: ObjectCache, _ object: CacheTestObject) throws -> Bool {
        guard let fd = try cache.open(object.hash) else { return false }
        fd.close()
        return true
    }

    /// `cleanup(toBytes:)`, tried again for a while: an object unpinned a
    /// moment ago stays held while any thread of this process is spawning a
    /// child (see `pinOutlivesUnpinInAChild`), and other tests spawn servers.
    static func cleansEventually(_ cache: ObjectCache, toBytes bytes: Int64) -> Bool {
        for _ in 0..<100 {
            if cache.cleanup(toBytes: bytes) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Fetches through `cache`, counting the downloads it needed.
    static func fetchCounting(_ cache: ObjectCache, _ object: CacheTestObject) throws -> (bytes: [UInt8], downloads: Int) {
        var downloads = 0
        let fd = try cache.fetch(hash: object.hash, compression: .zlib, expectedSize: nil, kind: .regular) { (sink) throws(DownloadError) in
            downloads += 1
            try object.serve(sink)
        }
        return (try cacheReadAll(fd), downloads)
    }

    @Test("an object the other cache evicted is a miss here and is downloaded again, then a hit for both")
    func evictionSeenByTheOther() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let object = CacheTestObject(size: 100_000, seed: 1)
        try Self.fill(a, object)
        // b learns of it (a hit) before a evicts it.
        #expect(try cacheReadAll(try #require(try b.open(object.hash))) == object.plain)
        #expect(a.cleanup(toBytes: 0))
        #expect(dir.diskUsage() == 0)
        #expect(b.usage().used == 0, "b sees the eviction in the shared usage")
        #expect(!(try Self.has(b, object)), "gone for b too")
        let refetched = try Self.fetchCounting(b, object)
        #expect(refetched.bytes == object.plain)
        #expect(refetched.downloads == 1)
        #expect(try cacheReadAll(try #require(try a.open(object.hash))) == object.plain, "b's refill is a hit for a")
        #expect(a.usage().used == 100_000 && b.usage().used == 100_000)
    }

    @Test("a pin taken through a hit on the other cache's object holds against that cache's cleanup")
    func pinThroughAHit() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let object = CacheTestObject(size: 100_000, seed: 2)
        let other = CacheTestObject(size: 100_000, seed: 3)
        try Self.fill(a, object)
        try Self.fill(a, other)
        let fd = try #require(try b.open(object.hash, pin: true))
        #expect(b.usage().pinned == 100_000)
        #expect(a.cleanup(toBytes: 0) == false, "the object b pinned stays")
        #expect(try cacheReadAll(fd) == object.plain)
        #expect(a.list().map(\.hash) == [object.hash])
        #expect(a.list().first?.pinned == true, "a sees b's pin")
        #expect(!(try Self.has(a, other)), "the unpinned one went")
        b.unpin(object.hash)
        #expect(b.usage().pinned == 0)
        #expect(Self.cleansEventually(a, toBytes: 0))
        #expect(dir.diskUsage() == 0)
    }

    @Test("the LRU order is shared: an object used through one cache outlives older ones in the other's cleanup")
    func sharedLRUOrder() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let objects = (0..<4).map { CacheTestObject(size: 100_000, seed: UInt8(10 + $0)) }
        for object in objects { try Self.fill(a, object) }
        // b uses the oldest; its touches reach the shared order when written (at close).
        #expect(try b.open(objects[0].hash).map { try cacheReadAll($0) } == objects[0].plain)
        b.close()
        #expect(a.cleanup(toBytes: 200_000))
        #expect(!(try Self.has(a, objects[1])), "the least recently used went first")
        #expect(!(try Self.has(a, objects[2])))
        #expect(try Self.has(a, objects[3]))
        #expect(try Self.has(a, objects[0]), "the object b used stays")
        #expect(a.usage().used == 200_000)
    }

    @Test("a fill in progress in one cache holds its reservation against the other's quota")
    func reservationOfAFillInProgress() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let held = CacheTestObject(size: 300_000, seed: 20)
        try Self.fill(a, held, pin: true)
        let filling = CacheTestObject(size: 400_000, seed: 21)
        let wanted = CacheTestObject(size: 400_000, seed: 22)
        var refusal: CacheError?
        let fd = try a.fetch(hash: filling.hash, compression: .zlib, expectedSize: 400_000, kind: .regular) { (sink) throws(DownloadError) in
            try filling.serve(sink)
            // a reserved 400 000 bytes for this fill and 300 000 are pinned: b's 400 000 do not fit.
            do {
                try b.fetch(hash: wanted.hash, compression: .zlib, expectedSize: 400_000, kind: .regular, download: wanted.serve).close()
            } catch let error as CacheError {
                refusal = error
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(try cacheReadAll(fd) == filling.plain)
        switch refusal {
        case .noSpace?: break
        default: Issue.record("b's fill during a's: expected noSpace, got \(String(describing: refusal))")
        }
        #expect(b.reservedBytes == 0, "the refused fill reserved nothing")
        // Once a's fill is done its object is unpinned: b's fill evicts it and fits.
        let done = try Self.fetchCounting(b, wanted)
        #expect(done.bytes == wanted.plain)
        #expect(dir.diskUsage() <= Self.limit)
        #expect(try Self.has(a, held), "the pinned object stayed")
        #expect(!(try Self.has(a, filling)), "the unpinned one made room")
        a.unpin(held.hash)
    }

    /// A pin is `flock(LOCK_SH)` on a descriptor the ledger closes at the last
    /// unpin. A child process shares the open file description from fork
    /// until exec (and for good if it never execs), so the lock outlives the
    /// close: every process spawned by any thread (Foundation's `Process`,
    /// posix_spawn) opens a window in which an object just unpinned cannot be
    /// evicted. Seen as the intermittent failure of `CacheSharedTests`'
    /// `pinnedAcrossCaches` (`b.cleanup(toBytes: 0)` right after `a.unpin`)
    /// while other tests start servers; with a thread spawning `/bin/true` in
    /// a loop, 1-3 % of unpin-then-cleanup rounds fail. A child that has not
    /// exec'd shows it every time; `SharedCacheLedger.releasePin` therefore
    /// unlocks (which releases the lock for every holder of the description)
    /// before it closes.
    @Test("an object unpinned while a child process shares the pin's descriptor can be evicted at once")
    func pinOutlivesUnpinInAChild() throws {
        let dir = CacheTempDirectory()
        defer { dir.remove() }
        let a = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let b = try ObjectCache(path: dir.path, limit: Self.limit, shared: true)
        let object = CacheTestObject(size: 50_000, seed: 30)
        try Self.fill(a, object, pin: true)
        // A child between fork and exec: it only waits for its SIGKILL.
        let child = fork()
        if child == 0 {
            while true { pause() }
        }
        try #require(child > 0, "fork: errno \(errno)")
        var reaped = false
        func reap() {
            guard !reaped else { return }
            kill(child, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(child, &status, 0)
            reaped = true
        }
        defer { reap() }
        a.unpin(object.hash)
        #expect(b.cleanup(toBytes: 0), "nobody pins the object any more")
        #expect(dir.diskUsage() == 0)
        // Once the child is gone, so is the pin.
        reap()
        #expect(b.cleanup(toBytes: 0))
        #expect(dir.diskUsage() == 0)
    }
}
