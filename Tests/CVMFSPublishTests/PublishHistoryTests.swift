import Foundation
import Testing
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// What a stratum 0 keeps for replicas: the tag history, the reflog and the
/// replica marker (docs/format/repository-layout.md §2, §4.1).
@Suite("Publisher: history, reflog and replica marker")
struct PublishHistoryTests {
    @Test("three revisions: trunk and trunk-previous move, a named tag stays, the reflog lists every root catalog")
    func historyAndReflog() throws {
        var repository = try PublishedRepository.make(label: "history", tree: { root in
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data("one\n".utf8).write(to: URL(fileURLWithPath: root + "/f"))
        })
        defer { repository.remove() }
        var roots = [repository.report.rootCatalog]
        var options = repository.options()
        options.tags = ["v2"]
        options.tagDescription = "second"
        for (index, text) in ["two\n", "three\n"].enumerated() {
            try Data(text.utf8).write(to: URL(fileURLWithPath: repository.source + "/f"))
            repository.report = try Publisher(options: options).publish(source: repository.source, output: repository.output)
            roots.append(repository.report.rootCatalog)
            if index == 0 { options.tags = [] }
        }
        let manifest = try repository.reader().manifest
        #expect(manifest.history == repository.report.history)
        #expect(manifest.garbageCollectable)

        let plain = try ObjectDecoder.decode(
            try repository.readBytes(repository.report.history.objectPath(suffix: ObjectSuffix.history)),
            expected: repository.report.history, compression: .zlib)
        let file = repository.scratch + "/history.db"
        try Data(plain).write(to: URL(fileURLWithPath: file))
        let history = try HistoryDatabase.open(path: file, writable: false)
        let byName = Dictionary(uniqueKeysWithValues: try history.tags().map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["trunk", "trunk-previous", "v2"])
        #expect(byName["trunk"]?.rootCatalog == roots[2])
        #expect(byName["trunk"]?.revision == 3)
        #expect(byName["trunk-previous"]?.rootCatalog == roots[1])
        #expect(byName["v2"]?.rootCatalog == roots[1])
        #expect(byName["v2"]?.description == "second")
        #expect(try history.previousRevision() != nil)
        #expect(history.fqrn == options.fqrn)

        let reflogBytes = try repository.readBytes(".cvmfsreflog")
        #expect(manifest.reflog == ContentHasher.hash(reflogBytes, algorithm: .sha1))
        let reflog = try Reflog.open(path: repository.path(of: ".cvmfsreflog"), writable: false)
        #expect(Set(try reflog.references(Reflog.Kind.catalog).map { $0.hash }) == Set(roots))
        #expect(try reflog.references(Reflog.Kind.history).count == 3)
        #expect(try reflog.references(Reflog.Kind.certificate).count == 1)
        #expect(FileManager.default.fileExists(atPath: repository.path(of: ".cvmfs_master_replica")))
    }

    @Test("a tag name outside upstream's alphabet, or trunk itself, is refused")
    func badTagNames() throws {
        for name in ["", "trunk", "trunk-previous", "with space", "a;b"] {
            var options = PublishOptions(fqrn: "x.cvmfs.local", keyDirectory: "/nonexistent")
            options.tags = [name]
            #expect(throws: PublishError.self) { _ = try Publisher(options: options) }
        }
    }
}
