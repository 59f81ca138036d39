import Foundation
import Testing
import CVMFSFormat
@testable import CVMFSPublish

/// Damaged or forged repositories: each is refused with the specific error,
/// and the message names the document, object, catalog or path.
@Suite("RepositoryReader refuses damaged and forged repositories")
struct RepositoryRefusalTests {
    static func signatureError(_ repository: PublishedRepository, fqrn: String? = PublishedRepository.fqrn) -> SignatureError? {
        guard let error = refusal({ () throws(RepositoryError) in try repository.reader(fqrn: fqrn) }) else { return nil }
        guard case .signature(let inner) = error else {
            Issue.record("expected a signature error, got \(error)")
            return nil
        }
        return inner
    }

    @Test("A changed byte in the manifest's text is refused as altered")
    func manifestPayloadFlipped() throws {
        let repository = try PublishedRepository.make(label: "refuse-manifest")
        defer { repository.remove() }
        try repository.flipByte(".cvmfspublished", at: 3)
        let error = Self.signatureError(repository)
        guard case .payloadHashMismatch(.manifest, _, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect("\(error!)".contains("manifest"))
    }

    @Test("A changed byte in the manifest's signature is refused")
    func manifestSignatureFlipped() throws {
        let repository = try PublishedRepository.make(label: "refuse-signature")
        defer { repository.remove() }
        try repository.flipByte(".cvmfspublished", at: -5)
        let error = Self.signatureError(repository)
        #expect(error == .badSignature(document: .manifest))
        #expect(error.map { "\($0)".contains("manifest") } == true)
    }

    @Test("A changed byte in the whitelist is refused as altered")
    func whitelistFlipped() throws {
        let repository = try PublishedRepository.make(label: "refuse-whitelist")
        defer { repository.remove() }
        try repository.flipByte(".cvmfswhitelist", at: 3)
        let error = Self.signatureError(repository)
        guard case .payloadHashMismatch(.whitelist, _, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect("\(error!)".contains("whitelist"))
    }

    @Test("An expired whitelist is refused, naming the repository")
    func whitelistExpired() throws {
        let tenDaysAgo = Int64(Date().timeIntervalSince1970) - 10 * 86_400
        let repository = try PublishedRepository.make(label: "refuse-expired", options: {
            $0.now = tenDaysAgo
            $0.whitelistValidityDays = 1
        })
        defer { repository.remove() }
        // Valid while it was fresh: the refusal below is about time alone.
        _ = try repository.reader(now: tenDaysAgo + 3600)
        let error = Self.signatureError(repository)
        guard case .whitelistExpired(let fqrn, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(fqrn == PublishedRepository.fqrn)
        #expect("\(error!)".contains(PublishedRepository.fqrn))
    }

    @Test("A whitelist for another certificate of the same repository is refused")
    func certificateNotInWhitelist() throws {
        let repository = try PublishedRepository.make(label: "refuse-cert")
        defer { repository.remove() }
        // Same master key, new certificate key: a whitelist the master key
        // really signed, but for a certificate the manifest does not use.
        let otherDirectory = repository.scratch + "/other-keys"
        try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: true)
        for ext in ["masterkey", "pub"] {
            let name = "/\(PublishedRepository.fqrn).\(ext)"
            try FileManager.default.copyItem(atPath: repository.keyDirectory + name, toPath: otherDirectory + name)
        }
        let other = try RepositoryKeys(directory: otherDirectory, fqrn: PublishedRepository.fqrn)
        #expect(other.certificate.fingerprint(algorithm: .sha1) != repository.keys.certificate.fingerprint(algorithm: .sha1))
        try repository.writeBytes(try other.signedWhitelist(algorithm: .sha1, now: Int64(Date().timeIntervalSince1970)), ".cvmfswhitelist")

        let error = Self.signatureError(repository)
        #expect(error == .certificateNotInWhitelist(fqrn: PublishedRepository.fqrn, fingerprint: repository.keys.certificate.fingerprint(algorithm: .sha1)))
        #expect(error.map { "\($0)".contains(PublishedRepository.fqrn) } == true)
    }

    @Test("A repository read under another name is refused")
    func wrongName() throws {
        let repository = try PublishedRepository.make(label: "refuse-name")
        defer { repository.remove() }
        let error = Self.signatureError(repository, fqrn: "other.cvmfs.local")
        #expect(error == .nameMismatch(document: .manifest, expected: "other.cvmfs.local", found: PublishedRepository.fqrn))
        #expect(error.map { "\($0)".contains("other.cvmfs.local") && "\($0)".contains(PublishedRepository.fqrn) } == true)
    }

    @Test("A corrupt data object is reported by verifyAll and refused by readFile")
    func corruptObject() throws {
        let repository = try PublishedRepository.make(label: "refuse-object")
        defer { repository.remove() }
        let hash = try #require(try repository.reader().lookup("/dir/b.txt").entry.contentHash)
        let objectPath = hash.objectPath(suffix: .none)
        try repository.flipByte(objectPath, at: 10)

        let reader = try repository.reader()
        let problems = reader.verifyAll().problems
        #expect(problems.count == 1)
        #expect(problems.first.map { $0.contains("/dir/b.txt") && $0.contains(hash.description) } == true, "\(problems)")

        let located = try reader.lookup("/dir/b.txt")
        let error = #expect(throws: RepositoryError.self) { try reader.readFile(located) { _ in } }
        guard case .object(let path, .hashMismatch(let expected, _)) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == objectPath)
        #expect(expected == hash)
        // The other files still read.
        try reader.readFile(try reader.lookup("/a.txt")) { _ in }
    }

    @Test("A truncated zlib object whose name matches its bytes is refused as truncated")
    func truncatedObject() throws {
        let repository = try PublishedRepository.make(label: "refuse-truncated")
        defer { repository.remove() }
        let original = try #require(try repository.reader().lookup("/dir/b.txt").entry.contentHash)
        let stored = try repository.readBytes(original.objectPath(suffix: .none))
        let truncated = Array(stored.prefix(stored.count / 2))
        let renamed = ContentHasher.hash(truncated, algorithm: .sha1)
        try FileManager.default.createDirectory(atPath: (repository.path(of: renamed.objectPath(suffix: .none)) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try repository.writeBytes(truncated, renamed.objectPath(suffix: .none))
        try FileManager.default.removeItem(atPath: repository.path(of: original.objectPath(suffix: .none)))
        _ = try repository.editRootCatalog("UPDATE catalog SET hash = X'\(renamed.hex)' WHERE name = 'b.txt'")

        let reader = try repository.reader()
        let located = try reader.lookup("/dir/b.txt")
        #expect(located.entry.contentHash == renamed)
        let error = #expect(throws: RepositoryError.self) { try reader.readFile(located) { _ in } }
        guard case .object(let path, .truncatedStream(let object)) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == renamed.objectPath(suffix: .none))
        #expect(object == renamed)
        let problems = reader.verifyAll().problems
        #expect(problems.count == 1)
        #expect(problems.first.map { $0.contains("/dir/b.txt") && $0.contains(renamed.description) } == true, "\(problems)")
    }

    @Test("A root catalog that is not SQLite is refused, naming the catalog")
    func catalogNotSQLite() throws {
        let repository = try PublishedRepository.make(label: "refuse-notsqlite")
        defer { repository.remove() }
        var generator = SplitMix(seed: 9)
        let garbage = Array("this is not a catalog\n".utf8) + (0..<8192).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let hash = try repository.installRootCatalog(garbage)

        let reader = try repository.reader()  // the chain itself is intact
        let error = #expect(throws: RepositoryError.self) { try reader.list("") }
        guard case .catalog(.notSQLite(let catalog)) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(catalog == hash.description)
        #expect("\(error!)".contains(hash.description))
    }

    @Test("A catalog entry whose name could escape its directory is refused", arguments: ["x/y", ".."])
    func invalidEntryName(name: String) throws {
        let repository = try PublishedRepository.make(label: "refuse-name-entry")
        defer { repository.remove() }
        let hash = try repository.editRootCatalog("UPDATE catalog SET name = '\(name)' WHERE name = 'a.txt'")

        let reader = try repository.reader()
        let listError = #expect(throws: RepositoryError.self) { try reader.list("") }
        let extractError = #expect(throws: RepositoryError.self) {
            try RepositoryExtractor(reader: reader).extract(to: repository.scratch + "/extracted")
        }
        for error in [listError, extractError] {
            guard case .catalog(.invalidEntryName(let catalog, let bytes, _)) = error else { Issue.record("got \(String(describing: error))"); continue }
            #expect(catalog == hash.description)
            #expect(bytes == Array(name.utf8))
            #expect("\(error!)".contains("\"\(name)\""))
        }
        // Nothing was written outside the destination.
        #expect(!FileManager.default.fileExists(atPath: repository.scratch + "/y"))
    }
}
