import Foundation
import Testing
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// `gc` on a stratum 0 (docs/replication.md): what a kept revision needs stays, the rest goes.
@Suite("Garbage collection of old revisions")
struct GarbageCollectionTests {
    @Test("five revisions, keep 2: revisions 4, 5 and the tagged 1 stay complete, 2 and 3's own objects go, the reflog forgets them")
    func keepTwo() throws {
        func write(_ root: String, _ revision: Int) throws {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data("revision \(revision) has its own content\n".utf8).write(to: URL(fileURLWithPath: root + "/f"))
        }
        var repository = try PublishedRepository.make(label: "gc", tree: { try write($0, 1) }, options: { $0.tags = ["first"] })
        defer { repository.remove() }
        var objectOfRevision = [Int: String]()
        func ownObject() -> String {
            ContentHasher.hash(ObjectEncoder.encode(Array("revision \(objectOfRevision.count + 1) has its own content\n".utf8), algorithm: .sha1, compression: .zlib).stored, algorithm: .sha1).objectPath(suffix: .none)
        }
        objectOfRevision[1] = ownObject()
        var roots = [1: repository.report.rootCatalog]
        for revision in 2...5 {
            try write(repository.source, revision)
            repository.report = try Publisher(options: repository.options()).publish(source: repository.source, output: repository.output)
            roots[revision] = repository.report.rootCatalog
            objectOfRevision[revision] = ownObject()
        }
        let keys = try RepositoryKeys(directory: repository.options().keyDirectory, fqrn: repository.options().fqrn)
        let manifest = try repository.reader().manifest
        let report = try GarbageCollector(folder: repository.output, policy: .init(keepRevisions: 2))
            .collect(manifest: manifest, resign: (keys, .sha1))
        #expect(report.keptRevisions == [1, 4, 5])
        for revision in [1, 4, 5] {
            #expect(FileManager.default.fileExists(atPath: repository.path(of: objectOfRevision[revision]!)), "revision \(revision)'s file")
            #expect(FileManager.default.fileExists(atPath: repository.path(of: roots[revision]!.objectPath(suffix: .catalog))))
        }
        for revision in [2, 3] {
            #expect(!FileManager.default.fileExists(atPath: repository.path(of: objectOfRevision[revision]!)), "revision \(revision)'s file survived")
            #expect(!FileManager.default.fileExists(atPath: repository.path(of: roots[revision]!.objectPath(suffix: .catalog))))
        }
        // The re-signed manifest verifies, names the new reflog, and every kept object is intact.
        let reader = try repository.reader()
        #expect(reader.manifest.revision == 5)
        #expect(reader.manifest.reflog == ContentHasher.hash(try repository.readBytes(".cvmfsreflog"), algorithm: .sha1))
        #expect(reader.verifyAll().problems.isEmpty)
        let reflog = try Reflog.open(path: repository.path(of: ".cvmfsreflog"), writable: false)
        #expect(Set(try reflog.references(Reflog.Kind.catalog).map { $0.hash }) == [roots[1]!, roots[4]!, roots[5]!])
        // A second collection finds nothing more to remove.
        #expect(try GarbageCollector(folder: repository.output, policy: .init(keepRevisions: 2)).collect(manifest: reader.manifest).objectsRemoved == 0)
    }
}
