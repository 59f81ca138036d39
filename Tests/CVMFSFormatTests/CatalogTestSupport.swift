import Foundation
import Testing
import CVMFSTestSupport
@testable import CVMFSFormat

/// Helpers shared by the catalog tests: inflating fixture catalogs and scratch files.
enum CatalogTestSupport {
    static let rootCatalogHash = "e7ea9f6edecce32d1fab4ba61a67fa345a86ab8a"

    /// A fresh scratch directory for one test.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cvmfs-catalog-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Inflates the fixture catalog `hash` into a temporary file and opens it.
    static func openFixtureCatalog(_ printable: String) throws -> Catalog {
        let hash = try #require(ContentHash(printable: printable))
        let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.smallRepository + "/" + hash.objectPath(suffix: .catalog))))
        let inflated = try ObjectDecoder.decode(stored, expected: hash, compression: .zlib)
        let file = try scratchDirectory().appendingPathComponent("catalog.db")
        try Data(inflated).write(to: file)
        return try Catalog(path: file.path, hash: hash)
    }
}
