import Foundation
import Testing
import CVMFSTestSupport
import CVMFSFormat
@testable import CVMFSPublish

/// A scratch folder with keys, a source tree and a repository published from it.
/// Call `remove()` in a `defer`.
struct PublishedRepository {
    static let fqrn = "test.cvmfs.local"

    let scratch: String
    var source: String { scratch + "/source" }
    var output: String { scratch + "/repo" }
    var keyDirectory: String { scratch + "/keys" }
    var keys: RepositoryKeys
    var report: PublishReport

    func remove() { ProcessSupport.remove(scratch) }

    func options(_ change: (inout PublishOptions) -> Void = { _ in }) -> PublishOptions {
        var options = PublishOptions(fqrn: Self.fqrn, keyDirectory: keyDirectory)
        options.chunking = ChunkingParameters(minimum: 256 << 10, average: 512 << 10, maximum: 1 << 20)
        options.threads = 2
        change(&options)
        return options
    }

    /// A small tree (no nested catalogs): a few files, one chunked, a symlink.
    static func writeSmallTree(_ root: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/dir", withIntermediateDirectories: true)
        try Data("alpha\n".utf8).write(to: URL(fileURLWithPath: root + "/a.txt"))
        try Data(String(repeating: "beta line\n", count: 500).utf8).write(to: URL(fileURLWithPath: root + "/dir/b.txt"))
        var generator = SplitMix(seed: 42)
        let big = (0..<(700_000)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try Data(big).write(to: URL(fileURLWithPath: root + "/dir/big.bin"))
        try fm.createSymbolicLink(atPath: root + "/link", withDestinationPath: "a.txt")
    }

    /// Keys, a small source tree and revision 1 of it, all in a new scratch folder.
    static func make(label: String, tree: (String) throws -> Void = writeSmallTree, options change: (inout PublishOptions) -> Void = { _ in }) throws -> PublishedRepository {
        let scratch = try ProcessSupport.makeTemporaryDirectory(label)
        do {
            try tree(scratch + "/source")
            let keys = try installSharedKeys(in: scratch + "/keys")
            var repository = PublishedRepository(scratch: scratch, keys: keys, report: placeholderReport)
            repository.report = try Publisher(options: repository.options(change)).publish(source: repository.source, output: repository.output)
            return repository
        } catch {
            ProcessSupport.remove(scratch)
            throw error
        }
    }

    /// RSA key generation is the slow part of a small publish: one key set,
    /// generated once and kept in memory, is written into each test's folder.
    private static let sharedKeyFiles: [(name: String, bytes: Data)] = {
        do {
            let directory = try ProcessSupport.makeTemporaryDirectory("shared-keys")
            defer { ProcessSupport.remove(directory) }
            _ = try RepositoryKeys(directory: directory, fqrn: fqrn)
            return try ["masterkey", "pub", "key", "crt"].map { ext in
                ("\(fqrn).\(ext)", try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(fqrn).\(ext)")))
            }
        } catch {
            fatalError("cannot generate the shared test keys: \(error)")
        }
    }()

    static func installSharedKeys(in directory: String) throws -> RepositoryKeys {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in sharedKeyFiles {
            try file.bytes.write(to: URL(fileURLWithPath: directory + "/" + file.name))
        }
        return try RepositoryKeys(directory: directory, fqrn: fqrn)
    }

    private static let placeholderReport = PublishReport(
        revision: 0, rootCatalog: ContentHasher.hash([UInt8](), algorithm: .sha1),
        history: ContentHasher.hash([UInt8](), algorithm: .sha1), entries: 0, regularFiles: 0, bytesRead: 0,
        objectsWritten: 0, objectBytesWritten: 0, objectsReused: 0, catalogsWritten: 0, catalogsReused: 0, seconds: 0)

    func reader(fqrn: String? = Self.fqrn, now: Int64? = nil, publicKeys: [RSAPublicKey]? = nil) throws(RepositoryError) -> RepositoryReader {
        try RepositoryReader(source: FolderSource(root: output), publicKeys: publicKeys ?? [keys.masterKey.publicKey], fqrn: fqrn, now: now)
    }

    func path(of relative: String) -> String { output + "/" + relative }

    func readBytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(of: relative))))
    }

    func writeBytes(_ bytes: [UInt8], _ relative: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path(of: relative)))
    }

    /// Flips the low bit of the byte at `offset` (negative: from the end).
    func flipByte(_ relative: String, at offset: Int) throws {
        var bytes = try readBytes(relative)
        let index = offset >= 0 ? offset : bytes.count + offset
        bytes[index] ^= 0x01
        try writeBytes(bytes, relative)
    }

    /// The current manifest, parsed (not verified).
    func manifest() throws -> Manifest {
        try Manifest(parsing: try readBytes(".cvmfspublished"))
    }

    /// Stores `plain` as a catalog object and re-signs the manifest to point at it.
    func installRootCatalog(_ plain: [UInt8]) throws -> ContentHash {
        var manifest = try manifest()
        let encoded = ObjectEncoder.encode(plain, algorithm: manifest.rootCatalog.algorithm, compression: .zlib)
        let objectPath = encoded.hash.objectPath(suffix: .catalog)
        try FileManager.default.createDirectory(atPath: (path(of: objectPath) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try writeBytes(encoded.stored, objectPath)
        manifest.rootCatalog = encoded.hash
        manifest.catalogSize = UInt64(plain.count)
        try writeBytes(try keys.signedManifest(manifest, algorithm: manifest.rootCatalog.algorithm), ".cvmfspublished")
        return encoded.hash
    }

    /// Inflates the root catalog, runs `sql` on it with SQLite, stores the
    /// result and re-signs the manifest to point at it.
    func editRootCatalog(_ sql: String) throws -> ContentHash {
        let manifest = try manifest()
        let stored = try readBytes(manifest.rootCatalog.objectPath(suffix: .catalog))
        let plain = try ObjectDecoder.decode(stored, expected: manifest.rootCatalog, compression: .zlib)
        let file = scratch + "/edit-\(UUID().uuidString).sqlite"
        defer { ProcessSupport.remove(file) }
        try Data(plain).write(to: URL(fileURLWithPath: file))
        do {
            let database = try SQLiteDatabase(path: file, mode: .readWriteCreate)
            try database.execute(sql)
        }
        return try installRootCatalog(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
    }

    /// Every file below `data/`, as paths relative to the repository.
    func dataObjects() throws -> Set<String> {
        let base = output + "/data"
        var result = Set<String>()
        for case let relative as String in FileManager.default.enumerator(atPath: base)! {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.insert("data/" + relative)
            }
        }
        return result
    }
}

/// A small deterministic generator, so test data does not depend on Foundation's randomness.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs `body` and returns the error it throws, recording an issue if it returns.
func refusal<T, E: Error>(_ body: () throws(E) -> T) -> E? {
    do {
        _ = try body()
        Issue.record("expected a refusal, but the call succeeded")
        return nil
    } catch {
        return error
    }
}
