import Foundation
import Testing
import CVMFSTestSupport
import CVMFSFormat
@testable import CVMFSPublish

@Suite("Publisher: later revisions write only what changed")
struct PublishRevisionTests {
    /// The small tree plus two nested catalogs: /nested and /nested/deeper.
    static func treeWithNestedCatalogs(_ root: String) throws {
        try PublishedRepository.writeSmallTree(root)
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/nested/deeper", withIntermediateDirectories: true)
        for marker in ["/nested/.cvmfscatalog", "/nested/deeper/.cvmfscatalog"] {
            _ = fm.createFile(atPath: root + marker, contents: Data())
        }
        try Data("in nested\n".utf8).write(to: URL(fileURLWithPath: root + "/nested/x.txt"))
        try Data("in deeper\n".utf8).write(to: URL(fileURLWithPath: root + "/nested/deeper/y.txt"))
    }

    static func listing(of repository: PublishedRepository, into folder: String) throws -> String {
        let reader = try repository.reader()
        #expect(reader.verifyAll().problems == [])
        _ = try RepositoryExtractor(reader: reader).extract(to: folder)
        return try ProcessSupport.treeListing(folder)
    }

    @Test("A second revision writes the changed file, the new file and the root catalog only")
    func secondRevision() throws {
        var repository = try PublishedRepository.make(label: "revision", tree: Self.treeWithNestedCatalogs)
        defer { repository.remove() }
        let first = repository.report
        #expect(first.catalogsWritten == 3)
        let before = try repository.dataObjects()

        let changed = Array("alpha, changed\n".utf8), added = Array("a new file\n".utf8)
        try Data(changed).write(to: URL(fileURLWithPath: repository.source + "/a.txt"))
        try Data(added).write(to: URL(fileURLWithPath: repository.source + "/new.txt"))
        let second = try Publisher(options: repository.options()).publish(source: repository.source, output: repository.output)
        repository.report = second

        #expect(second.revision == 2)
        #expect(second.catalogsWritten == 1)
        #expect(second.catalogsReused == 2)
        let after = try repository.dataObjects()
        let new = after.subtracting(before)
        let expectedNew: Set<String> = [
            ContentHasher.hash(ObjectEncoder.encode(changed, algorithm: .sha1, compression: .zlib).stored, algorithm: .sha1).objectPath(suffix: .none),
            ContentHasher.hash(ObjectEncoder.encode(added, algorithm: .sha1, compression: .zlib).stored, algorithm: .sha1).objectPath(suffix: .none),
            second.rootCatalog.objectPath(suffix: .catalog),
            second.history.objectPath(suffix: .history),
        ]
        #expect(new == expectedNew)
        #expect(second.objectsWritten == new.count)
        // The previous revision stays complete: its root catalog is still there.
        #expect(after.contains(first.rootCatalog.objectPath(suffix: .catalog)))
        #expect(before.isSubset(of: after))

        let want = try ProcessSupport.treeListing(repository.source)
        #expect(try Self.listing(of: repository, into: repository.scratch + "/extracted2") == want)

        // Nothing changed: only catalogs and the history may be written (revision and timestamp change).
        let third = try Publisher(options: repository.options()).publish(source: repository.source, output: repository.output)
        #expect(third.revision == 3)
        let newInThird = try repository.dataObjects().subtracting(after)
        #expect(newInThird.allSatisfy { $0.hasSuffix("C") || $0.hasSuffix("H") }, "file objects written again: \(newInThird.sorted())")
        #expect(third.objectsWritten == newInThird.count)
        #expect(third.catalogsReused == 2)
        #expect(try Self.listing(of: repository, into: repository.scratch + "/extracted3") == want)
    }
}
