import Foundation
import Testing
import CVMFSTestSupport
@testable import CVMFSFormat

@Suite("RepositoryReader on the upstream fixture repository")
struct RepositoryReaderTests {
    static func openFixture() throws -> RepositoryReader {
        let key = try RSAPublicKey(contentsOf: Fixtures.smallPublicKey)
        return try RepositoryReader(source: FolderSource(root: Fixtures.smallRepository), publicKeys: [key], fqrn: "small.cvmfs.local")
    }

    /// expected.tsv as path → sha256 (or symlink target) column.
    static func expectedDigests() throws -> [String: String] {
        let text = try String(contentsOfFile: Fixtures.smallExpectedListing, encoding: .utf8)
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count >= 7 { result[String(fields[0])] = String(fields[6]) }
        }
        return result
    }

    @Test("Extracting the fixture offline gives exactly the tree the upstream client shows")
    func extractMatchesExpectedListing() throws {
        let scratch = try ProcessSupport.makeTemporaryDirectory("reader-extract")
        defer { ProcessSupport.remove(scratch) }
        let reader = try Self.openFixture()
        let destination = scratch + "/tree"
        let summary = try RepositoryExtractor(reader: reader).extract(to: destination)
        #expect(summary.entries > 0)

        let listing = try ProcessSupport.treeListing(destination, expand: ["CVMFS_FIXTURE_ARCH=x86_64"])
        let expected = try String(contentsOfFile: Fixtures.smallExpectedListing, encoding: .utf8)
        if listing != expected {
            let got = Set(listing.split(separator: "\n")), want = Set(expected.split(separator: "\n"))
            Issue.record("listing differs: missing \(want.subtracting(got).sorted().prefix(5)), unexpected \(got.subtracting(want).sorted().prefix(5))")
        }
    }

    @Test("Chunked files read through readFile hash to the fixture's SHA-256", arguments: [
        "/data/random3M.bin", "/data/zeros2M.bin", "/nested/inner/deeper/chunked.bin",
    ])
    func chunkedFilesReadWhole(path: String) throws {
        let reader = try Self.openFixture()
        let located = try reader.lookup(path)
        #expect(located.entry.isChunked, "\(path) should be stored in chunks in the fixture")
        var bytes = [UInt8]()
        try reader.readFile(located) { bytes.append(contentsOf: $0) }
        #expect(UInt64(bytes.count) == located.entry.size)
        let expected = try #require(try Self.expectedDigests()[String(path.dropFirst())])
        #expect(try ProcessSupport.sha256(bytes) == expected)
    }

    @Test("verifyAll on the fixture finds every catalog and object intact")
    func verifyAllIsClean() throws {
        let reader = try Self.openFixture()
        let report = reader.verifyAll()
        #expect(report.problems == [])
        #expect(report.catalogs == 3)  // root, /nested, /nested/inner/deeper
        let expectedLines = try String(contentsOfFile: Fixtures.smallExpectedListing, encoding: .utf8).split(separator: "\n").count
        #expect(report.entries == expectedLines)
        #expect(report.objects > 0)
    }

    @Test("Looking up a missing path names it")
    func lookupMissing() throws {
        let reader = try Self.openFixture()
        let error = #expect(throws: RepositoryError.self) { try reader.lookup("/no/such/file") }
        guard case .notFound(let path) = error else { Issue.record("expected notFound, got \(String(describing: error))"); return }
        #expect(path == "/no/such/file")
    }
}
