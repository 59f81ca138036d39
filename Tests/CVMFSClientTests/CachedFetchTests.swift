import CVMFSTestSupport
@testable import CVMFSClient
import CVMFSFormat
import Foundation
import Testing

/// The cold fetch as the file system runs it: `CachedObjectProvider` over a
/// real cache and a real downloader, against loopback servers.
@Suite("Cold fetches through the cache")
struct CachedFetchTests {
    /// An object whose size is not known up front (a catalog) and turns out
    /// to be over half the quota is refused by the cache while it streams in.
    /// That is the cache's answer, not bad data from the server: no retry,
    /// no other host, and the reader sees the quota error (ENOSPC), not EIO.
    @Test("a fill the cache refuses while it streams in ends at once with the cache's error, trying no other host")
    func localRefusalIsNotBadData() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let first = try FaultServer(root: fixture.root)
        defer { first.stop() }
        let second = try FaultServer(root: fixture.root)
        defer { second.stop() }
        let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: cacheDirectory) }
        // Half of this quota is less than the object's 20,000 inflated bytes.
        let cache = try ObjectCache(path: cacheDirectory, limit: 30_000)
        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url]))
        let provider = CachedObjectProvider(cache: cache, downloader: downloader)

        let object = fixture.hash.objectPath(suffix: .catalog)
        try FileManager.default.createDirectory(at: fixture.root.appendingPathComponent("data/" + fixture.hash.hex.prefix(2)),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixture.root.appendingPathComponent(fixture.objectPath),
                                         to: fixture.root.appendingPathComponent(object))
        let failure = refusal { () throws(FileSystemError) in try provider.catalogFile(fixture.hash) }
        guard case .object(let path, .objectTooLarge(let hash, _, let limit))? = failure else {
            Issue.record("expected the cache's objectTooLarge, got \(String(describing: failure))")
            return
        }
        #expect(path == object && hash == fixture.hash && limit == 30_000)
        #expect(try first.log().filter { $0.hasPrefix("GET") }.count == 1, "one request, no no-cache retry")
        #expect(try second.log().isEmpty, "the second host was not asked")
        #expect(downloader.statistics.retries == 0)
    }
}

private func refusal<T, E: Error>(_ body: () throws(E) -> T) -> E? {
    do { _ = try body(); return nil } catch { return error }
}
