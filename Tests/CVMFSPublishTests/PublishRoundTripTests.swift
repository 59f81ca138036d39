import Foundation
import Testing
import CVMFSTestSupport
import CVMFSFormat
@testable import CVMFSPublish

@Suite("Publisher round trip: publish, extract, compare")
struct PublishRoundTripTests {
    struct Configuration: Sendable, CustomTestStringConvertible {
        var algorithm: HashAlgorithm
        var compression: Compression
        var testDescription: String { "\(algorithm), \(compression == .none ? "uncompressed" : "zlib")" }
    }

    static let configurations = [
        Configuration(algorithm: .sha1, compression: .zlib),
        Configuration(algorithm: .rmd160, compression: .zlib),
        Configuration(algorithm: .shake128, compression: .none),
    ]

    static func makeContent(_ target: String) throws {
        let result = try ProcessSupport.run("bash", [Fixtures.smallMakeContent, target])
        #expect(result.status == 0, "make-content.sh failed: \(result.stderr)")
    }

    /// One generated tree, published once per configuration (the generator
    /// and the file system are the slow part, so the tree is made once).
    @Test("A published tree extracts to an identical listing, with every hash algorithm and uncompressed")
    func roundTrip() throws {
        let scratch = try ProcessSupport.makeTemporaryDirectory("roundtrip")
        defer { ProcessSupport.remove(scratch) }
        let source = scratch + "/source"
        try Self.makeContent(source)
        let want = try ProcessSupport.treeListing(source)
        #expect(want.split(separator: "\n").count > 2000)
        let keys = try PublishedRepository.installSharedKeys(in: scratch + "/keys")
        for (index, configuration) in Self.configurations.enumerated() {
            let output = scratch + "/repo\(index)"
            var options = PublishOptions(fqrn: PublishedRepository.fqrn, keyDirectory: scratch + "/keys")
            options.algorithm = configuration.algorithm
            options.compression = configuration.compression
            options.chunking = ChunkingParameters(minimum: 256 << 10, average: 512 << 10, maximum: 1 << 20)
            let report = try Publisher(options: options).publish(source: source, output: output)
            #expect(report.revision == 1)
            try check(configuration, output: output, keys: keys, want: want, extracted: scratch + "/extracted\(index)")
        }
    }

    func check(_ configuration: Configuration, output: String, keys: RepositoryKeys, want: String, extracted: String) throws {
        let c = Comment(rawValue: configuration.testDescription)
        let reader = try RepositoryReader(source: FolderSource(root: output), publicKeys: [keys.masterKey.publicKey], fqrn: PublishedRepository.fqrn)
        #expect(reader.manifest.rootCatalog.algorithm == configuration.algorithm, c)
        // The small chunk sizes make the large files chunked.
        #expect(try reader.lookup("/data/random3M.bin").entry.isChunked, c)
        #expect(try reader.lookup("/nested/inner/deeper/chunked.bin").entry.isChunked, c)
        #expect(try reader.lookup("/hello.txt").entry.compression == configuration.compression, c)

        _ = try RepositoryExtractor(reader: reader).extract(to: extracted)
        let got = try ProcessSupport.treeListing(extracted)
        if got != want {
            let g = Set(got.split(separator: "\n")), w = Set(want.split(separator: "\n"))
            Issue.record("\(c): listing differs: missing \(w.subtracting(g).sorted().prefix(5)), unexpected \(g.subtracting(w).sorted().prefix(5))")
        }

        // Every object's name carries the algorithm's suffix (docs/format/repository-layout.md §3.1).
        let base = output + "/data"
        let objects = FileManager.default.enumerator(atPath: base)!.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: base + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue && !$0.hasPrefix("txn")
        }
        #expect(objects.count > 2000, c)
        let suffix = configuration.algorithm.suffixID
        for object in objects {
            let name = object.split(separator: "/").last.map(String.init) ?? ""
            let stem = name.last.map { $0.isUppercase } == true ? String(name.dropLast()) : name
            if suffix.isEmpty {
                #expect(!stem.contains("-"), "\(object) has an algorithm suffix in a SHA-1 repository")
            } else {
                #expect(stem.hasSuffix(suffix), "\(object) lacks the \(suffix) suffix")
            }
        }
    }

    @Test("An uncompressed repository stores a file's bytes as they are")
    func uncompressedObjectIsTheFile() throws {
        let repository = try PublishedRepository.make(label: "plain", options: { $0.compression = .none })
        defer { repository.remove() }
        let reader = try repository.reader()
        let entry = try reader.lookup("/dir/b.txt").entry
        #expect(entry.compression == .none)
        let hash = try #require(entry.contentHash)
        let stored = try repository.readBytes(hash.objectPath(suffix: .none))
        let source = Array(try Data(contentsOf: URL(fileURLWithPath: repository.source + "/dir/b.txt")))
        #expect(stored == source)
        #expect(ContentHasher.hash(source, algorithm: .sha1) == hash)
    }
}
