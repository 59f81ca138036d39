@testable import CVMFSClient
import CVMFSFormat
import Testing

@Suite("Negative lookup cache")
struct NegativeLookupCacheTests {
    @Test("stays within two generations however many misses, and keeps the recent ones")
    func bounded() {
        var cache = NegativeLookupCache(capacity: 100)
        let hashes = (0..<1_000).map { PathHash(path: "/missing/\($0)") }
        for hash in hashes { cache.insert(hash) }
        #expect(cache.count <= 200)
        #expect(hashes.suffix(100).allSatisfy { cache.contains($0) }, "the last capacity misses are all remembered")
        #expect(!cache.contains(hashes[0]), "the oldest are gone")
        cache.removeAll()
        #expect(cache.count == 0 && !cache.contains(hashes[999]))
    }
}
