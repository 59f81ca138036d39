import Foundation
import Testing
import CVMFSTestSupport
@testable import CVMFSFormat

@Suite("Manifest, whitelist and certificate verification")
struct SignatureTests {
    static let fqrn = "small.cvmfs.local"
    /// `T` of the fixture manifest; the fixture whitelist is valid then.
    static let fixtureTime: Int64 = 1_795_703_655

    static func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    struct FixtureDocuments {
        var manifest: [UInt8]
        var whitelist: [UInt8]
        var certificate: [UInt8]
        var masterKey: RSAPublicKey
    }

    static func fixture() throws -> FixtureDocuments {
        let manifest = try read(Fixtures.smallRepository + "/.cvmfspublished")
        let whitelist = try read(Fixtures.smallRepository + "/.cvmfswhitelist")
        let parsed = try Manifest(parsing: manifest)
        let certHash = try #require(parsed.certificate)
        let stored = try read(Fixtures.smallRepository + "/" + certHash.objectPath(suffix: .certificate))
        let certificate = try ObjectDecoder.decode(stored, expected: certHash, compression: .zlib)
        let key = try RSAPublicKey(contentsOf: Fixtures.smallPublicKey)
        return FixtureDocuments(manifest: manifest, whitelist: whitelist, certificate: certificate, masterKey: key)
    }

    static func verify(_ d: FixtureDocuments, fqrn: String = fqrn, minimumTimestamp: UInt64 = 0,
                       blacklist: Blacklist = .empty) throws(SignatureError) -> Manifest {
        try ManifestVerifier(masterKeys: [d.masterKey], fqrn: fqrn, blacklist: blacklist)
            .verify(manifest: d.manifest, whitelist: d.whitelist, certificate: d.certificate,
                    now: fixtureTime + 60, minimumTimestamp: minimumTimestamp)
    }

    /// Runs `body` and returns the `SignatureError` it throws, failing the test otherwise.
    static func refusal(_ body: () throws(SignatureError) -> Manifest) -> SignatureError? {
        do {
            let manifest = try body()
            Issue.record("expected a refusal, got revision \(manifest.revision)")
            return nil
        } catch {
            return error
        }
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cvmfs-signing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Generated once: RSA key generation is the slow part of these tests.
    static let generatedKeys: RepositoryKeys = {
        do { return try RepositoryKeys(directory: temporaryDirectory(), fqrn: fqrn) } catch { fatalError("\(error)") }
    }()

    static func offsetOf(_ needle: String, in bytes: [UInt8]) throws -> Int {
        let n = Array(needle.utf8)
        return try #require((0...(bytes.count - n.count)).first { Array(bytes[$0..<($0 + n.count)]) == n })
    }

    // MARK: - The upstream fixture

    @Test("the upstream fixture's chain verifies and gives revision 1, TTL 240 and the README's root catalog")
    func fixtureVerifies() throws {
        let manifest = try Self.verify(Self.fixture())
        #expect(manifest.revision == 1)
        #expect(manifest.ttl == 240)
        #expect(manifest.rootCatalog.description == "e7ea9f6edecce32d1fab4ba61a67fa345a86ab8a")
        #expect(manifest.fqrn == Self.fqrn)
        #expect(manifest.timestamp == UInt64(Self.fixtureTime))
        #expect(manifest.reflog?.description == "d4e40df7871b681a8289b7bc343f5f8090cd3fc2")
    }

    @Test("exporting the fixture manifest reproduces upstream's payload byte for byte")
    func manifestExportMatchesUpstream() throws {
        let letter = try Letter(parsing: Self.fixture().manifest, document: .manifest)
        #expect(try Manifest(parsing: letter.payload).exportPayload() == letter.payload)
        #expect(letter.signature.count == 256)
    }

    @Test("the fixture whitelist lists the fixture certificate in upstream's fingerprint format")
    func fixtureWhitelist() throws {
        let d = try Self.fixture()
        let letter = try Letter(parsing: d.whitelist, document: .whitelist)
        let list = try Whitelist(parsing: letter.payload)
        let cert = try Certificate(pem: d.certificate)
        #expect(list.fqrn == Self.fqrn)
        #expect(list.expires.digits == "20361123143414")
        #expect(list.fingerprints == [cert.fingerprint(algorithm: .sha1)])
        #expect(Whitelist.fingerprintLine(list.fingerprints[0]) == "57:BF:11:11:05:CF:8A:58:04:FF:9A:FF:89:4B:9D:57:45:A0:F0:E6")
    }

    // MARK: - Refusals

    @Test("a flipped byte in the manifest payload is a payload hash mismatch")
    func tamperedManifestPayload() throws {
        var d = try Self.fixture()
        d.manifest[try Self.offsetOf("B356352", in: d.manifest) + 1] = UInt8(ascii: "4")
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d) }
        guard case .payloadHashMismatch(.manifest, let expected, let actual) = error else {
            Issue.record("wrong error: \(String(describing: error))")
            return
        }
        #expect(expected.description == "ee410b8864b76dafc30343c15aed81335767ecb7")
        #expect(actual != expected)
        #expect(error!.description.contains("manifest was altered"))
    }

    @Test("a flipped byte in the manifest signature is a bad manifest signature")
    func tamperedManifestSignature() throws {
        var d = try Self.fixture()
        d.manifest[d.manifest.count - 10] ^= 0x01
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d) }
        #expect(error == .badSignature(document: .manifest))
        #expect(error?.description == "manifest signature does not verify")
    }

    @Test("a flipped byte in the whitelist text is a whitelist payload hash mismatch")
    func tamperedWhitelistPayload() throws {
        var d = try Self.fixture()
        d.whitelist[try Self.offsetOf("E2036", in: d.whitelist) + 4] = UInt8(ascii: "7")
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d) }
        guard case .payloadHashMismatch(.whitelist, _, _) = error else {
            Issue.record("wrong error: \(String(describing: error))")
            return
        }
        #expect(error!.description.hasPrefix("whitelist was altered"))
    }

    @Test("a flipped byte in the whitelist signature is a bad whitelist signature")
    func tamperedWhitelistSignature() throws {
        var d = try Self.fixture()
        d.whitelist[d.whitelist.count - 1] ^= 0x80
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d) }
        #expect(error == .badSignature(document: .whitelist))
        #expect(error?.description == "whitelist signature does not verify")
    }

    @Test("a whitelist past its expiry is refused with the expiry in the message")
    func expiredWhitelist() throws {
        let keys = Self.generatedKeys
        let signedAt: Int64 = 1_704_103_200  // 2024-01-01 10:00:00 UTC
        var manifest = Manifest(rootCatalog: ContentHasher.hash([1], algorithm: .sha1), catalogSize: 1, ttl: 240, revision: 3,
                                fqrn: Self.fqrn, timestamp: UInt64(signedAt))
        manifest.certificate = keys.certificateObject(algorithm: .sha1).hash
        let whitelist = try keys.signedWhitelist(algorithm: .sha1, validForDays: 1, now: signedAt)
        let signed = try keys.signedManifest(manifest, algorithm: .sha1)
        let verifier = ManifestVerifier(masterKeys: [keys.masterKey.publicKey], fqrn: Self.fqrn)
        let error = Self.refusal { () throws(SignatureError) in
            try verifier.verify(manifest: signed, whitelist: whitelist, certificate: keys.certificate.pem(), now: signedAt + 2 * 86_400)
        }
        #expect(error == .whitelistExpired(fqrn: Self.fqrn, expiry: WhitelistTimestamp(unixTime: signedAt + 86_400)))
        #expect(error?.description == "whitelist of small.cvmfs.local expired at 2024-01-02 10:00 UTC")
        // Still valid a second before the expiry hour.
        #expect(try verifier.verify(manifest: signed, whitelist: whitelist, certificate: keys.certificate.pem(),
                                    now: signedAt + 86_400 - 1) == manifest)
    }

    @Test("expiry is exact to the hour: the whole expiry hour already counts as expired")
    func expiryHour() throws {
        let payload = Array("20240101000000\nE20240101103000\nNx.y\n".utf8)
        let list = try Whitelist(parsing: payload)
        let tenOClock: Int64 = 1_704_103_200  // 2024-01-01 10:00:00 UTC
        #expect(list.isValid(at: tenOClock - 1))
        #expect(!list.isValid(at: tenOClock))
        #expect(!list.isValid(at: tenOClock + 29 * 60))
    }

    @Test("a certificate whose fingerprint is not in the whitelist is refused, naming the fingerprint")
    func certificateNotWhitelisted() throws {
        let signer = Self.generatedKeys
        let otherDirectory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: otherDirectory) }
        let other = try RepositoryKeys(directory: otherDirectory, fqrn: Self.fqrn)
        let manifest = Manifest(rootCatalog: ContentHasher.hash([2], algorithm: .sha1), catalogSize: 1, ttl: 240, revision: 1,
                                fqrn: Self.fqrn, certificate: signer.certificateObject(algorithm: .sha1).hash, timestamp: 10)
        let verifier = ManifestVerifier(masterKeys: [other.masterKey.publicKey], fqrn: Self.fqrn)
        let error = Self.refusal { () throws(SignatureError) in
            try verifier.verify(manifest: signer.signedManifest(manifest, algorithm: .sha1),
                                whitelist: other.signedWhitelist(algorithm: .sha1, now: 10),
                                certificate: signer.certificate.pem(), now: 20)
        }
        let fingerprint = signer.certificate.fingerprint(algorithm: .sha1)
        #expect(error == .certificateNotInWhitelist(fqrn: Self.fqrn, fingerprint: fingerprint))
        #expect(error?.description.contains(Whitelist.fingerprintLine(fingerprint)) == true)
    }

    @Test("a blacklisted certificate or a revision below the blacklist's minimum is refused, naming it; other lines change nothing")
    func blacklist() throws {
        let d = try Self.fixture()
        let fingerprint = try Certificate(pem: d.certificate).fingerprint(algorithm: .sha1)
        let banned = Blacklist(parsing: "# revoked after the incident\n\n  \(Whitelist.fingerprintLine(fingerprint)) # key 1\n")
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d, blacklist: banned) }
        #expect(error == .certificateBlacklisted(fqrn: Self.fqrn, fingerprint: fingerprint))
        #expect(error?.description.contains("blacklisted") == true)

        let revisions = Blacklist(parsing: "<small.cvmfs.local 2\n<other.cvmfs.local 9\n<small.cvmfs.local\t1\n<broken line here\n")
        #expect(revisions.minimumRevision(of: Self.fqrn) == 2, "the higher of two lines wins; a malformed one is skipped")
        let old = Self.refusal { () throws(SignatureError) in try Self.verify(d, blacklist: revisions) }
        #expect(old == .revisionBlacklisted(fqrn: Self.fqrn, revision: 1, minimum: 2))
        #expect(old?.description == "revision 1 of small.cvmfs.local is blacklisted: revisions below 2 are refused (CVMFS_BLACKLIST)")

        let harmless = Blacklist(parsing: "<small.cvmfs.local 1\n<other.cvmfs.local 9\n" + Whitelist.fingerprintLine(ContentHasher.hash([1], algorithm: .sha1)))
        #expect(try Self.verify(d, blacklist: harmless).revision == 1)
    }

    @Test("a manifest for another repository is a name mismatch")
    func wrongName() throws {
        let d = try Self.fixture()
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d, fqrn: "other.cvmfs.local") }
        #expect(error == .nameMismatch(document: .manifest, expected: "other.cvmfs.local", found: Self.fqrn))
        #expect(error?.description == "manifest is for repository 'small.cvmfs.local', expected 'other.cvmfs.local'")
    }

    @Test("a manifest older than the newest copy seen is refused as outdated")
    func outdated() throws {
        let d = try Self.fixture()
        let minimum = UInt64(Self.fixtureTime) + 1
        let error = Self.refusal { () throws(SignatureError) in try Self.verify(d, minimumTimestamp: minimum) }
        #expect(error == .outdatedTimestamp(found: UInt64(Self.fixtureTime), minimum: minimum))
        #expect(error?.description.contains("older than") == true)
        #expect(throws: Never.self) { try Self.verify(d, minimumTimestamp: UInt64(Self.fixtureTime)) }
    }

    @Test("a letter without the '--' line is refused as unsigned")
    func missingSeparator() {
        #expect(throws: SignatureError.missingSeparator(document: .manifest)) {
            try Letter(parsing: Array("Cabc\nS1\n".utf8), document: .manifest)
        }
    }

    @Test("a manifest without a required key names the key")
    func incompleteManifest() {
        #expect(throws: SignatureError.manifestIncomplete(missingKey: "S")) {
            try Manifest(parsing: Array("Ce7ea9f6edecce32d1fab4ba61a67fa345a86ab8a\nRd41d8cd98f00b204e9800998ecf8427e\nD240\n".utf8))
        }
    }

    @Test("loading public keys fails on the first bad file and names it")
    func badKeyFile() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/broken.pub"
        try Data("not a key\n".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: SignatureError.keyFileUnparsable(path: bad)) {
            try ManifestVerifier.loadPublicKeys(paths: [Fixtures.smallPublicKey, bad])
        }
        let missing = dir + "/missing.pub"
        let error = #expect(throws: SignatureError.self) { try ManifestVerifier.loadPublicKeys(paths: [missing]) }
        #expect(error == .keyFileUnreadable(path: missing, errno: ENOENT))
        #expect(error?.description.contains(missing) == true)
        #expect(try ManifestVerifier.loadPublicKeys(paths: [Fixtures.smallPublicKey]).count == 1)
    }

    @Test("an empty key list means no usable public key for the whitelist")
    func noKeys() throws {
        let d = try Self.fixture()
        let error = Self.refusal { () throws(SignatureError) in
            try ManifestVerifier(masterKeys: [], fqrn: Self.fqrn)
                .verify(manifest: d.manifest, whitelist: d.whitelist, certificate: d.certificate, now: Self.fixtureTime)
        }
        #expect(error == .noUsablePublicKey(document: .whitelist))
    }

    @Test("PKCS#7 and CA-chain whitelists are refused as unsupported")
    func unsupportedWhitelists() throws {
        let keys = Self.generatedKeys
        let cert = keys.certificate.fingerprint(algorithm: .sha1)
        let manifest = Manifest(rootCatalog: ContentHasher.hash([3], algorithm: .sha1), catalogSize: 1, ttl: 240, revision: 1,
                                fqrn: Self.fqrn, certificate: keys.certificateObject(algorithm: .sha1).hash, timestamp: 10)
        let verifier = ManifestVerifier(masterKeys: [keys.masterKey.publicKey], fqrn: Self.fqrn)
        for (flag, expected) in [("Vpkcs7", SignatureError.whitelistPKCS7Unsupported(fqrn: Self.fqrn)),
                                 ("Wcachain", SignatureError.whitelistCAChainUnsupported(fqrn: Self.fqrn))] {
            let payload = Array("20240101000000\nE20990101000000\nN\(Self.fqrn)\n\(flag)\n\(Whitelist.fingerprintLine(cert))\n".utf8)
            let whitelist = try Letter.make(payload: payload, algorithm: .sha1) { line throws(SignatureError) in
                try keys.masterKey.signRaw(line)
            }
            let error = Self.refusal { () throws(SignatureError) in
                try verifier.verify(manifest: keys.signedManifest(manifest, algorithm: .sha1), whitelist: whitelist,
                                    certificate: keys.certificate.pem(), now: 20)
            }
            #expect(error == expected)
        }
    }

    // MARK: - Publisher round trip

    @Test("whitelist and manifest signed by RepositoryKeys verify", arguments: HashAlgorithm.allCases)
    func roundTrip(algorithm: HashAlgorithm) throws {
        let keys = Self.generatedKeys
        let now: Int64 = 1_800_000_000
        let manifest = Manifest(
            rootCatalog: ContentHasher.hash([4], algorithm: algorithm), catalogSize: 4096, ttl: 900, revision: 42,
            garbageCollectable: true, fqrn: Self.fqrn, certificate: keys.certificateObject(algorithm: algorithm).hash,
            history: ContentHasher.hash([5], algorithm: algorithm), timestamp: UInt64(now))
        let whitelist = try keys.signedWhitelist(algorithm: algorithm, now: now)
        let signed = try keys.signedManifest(manifest, algorithm: algorithm)

        let trusted = try ManifestVerifier.loadPublicKeys(paths: [keys.publicKeyPath])
        let verified = try ManifestVerifier(masterKeys: trusted, fqrn: Self.fqrn)
            .verify(manifest: signed, whitelist: whitelist, certificate: keys.certificate.pem(), now: now + 3600)
        #expect(verified == manifest)

        let letter = try Letter(parsing: whitelist, document: .whitelist)
        #expect(letter.hashLine.count == algorithm.printableLength)
        let line = String(decoding: letter.payload, as: UTF8.self).split(separator: "\n")[3]
        #expect(line.hasSuffix(algorithm.suffixID.uppercased()))
        #expect(Whitelist.parseFingerprint(String(line)) == keys.certificate.fingerprint(algorithm: algorithm))
    }

    @Test("reopening a key directory loads the same keys, and private keys are mode 0600")
    func keysPersist() throws {
        let keys = Self.generatedKeys
        let again = try RepositoryKeys(directory: keys.directory, fqrn: Self.fqrn)
        #expect(again.masterKey.publicKey.pem() == keys.masterKey.publicKey.pem())
        #expect(again.certificate.der == keys.certificate.der)
        for path in [keys.masterKeyPath, keys.certificateKeyPath] {
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
        }
    }

    @Test("the openssl CLI agrees: verify-recover of the whitelist and dgst -sha1 of the manifest")
    func opensslCrossCheck() throws {
        let keys = Self.generatedKeys
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = Manifest(rootCatalog: ContentHasher.hash([6], algorithm: .rmd160), catalogSize: 1, ttl: 240, revision: 1,
                                fqrn: Self.fqrn, timestamp: 1)
        let whitelist = try Letter(parsing: keys.signedWhitelist(algorithm: .rmd160, now: 1), document: .whitelist)
        let signed = try Letter(parsing: keys.signedManifest(manifest, algorithm: .rmd160), document: .manifest)
        try Data(whitelist.signature).write(to: URL(fileURLWithPath: dir + "/wl.sig"))
        try Data(signed.signature).write(to: URL(fileURLWithPath: dir + "/mf.sig"))
        try Data(signed.hashLine).write(to: URL(fileURLWithPath: dir + "/mf.line"))
        try Data(keys.certificate.publicKey().pem()).write(to: URL(fileURLWithPath: dir + "/cert.pub"))

        let recovered = try Self.openssl(["pkeyutl", "-verifyrecover", "-pubin", "-inkey", keys.publicKeyPath, "-in", dir + "/wl.sig"])
        #expect(recovered.status == 0)
        #expect(recovered.output == whitelist.hashLine)

        let dgst = try Self.openssl(["dgst", "-sha1", "-verify", dir + "/cert.pub", "-signature", dir + "/mf.sig", dir + "/mf.line"])
        #expect(dgst.status == 0)
        #expect(String(decoding: dgst.output, as: UTF8.self).contains("Verified OK"))

        let fingerprint = try Self.openssl(["x509", "-in", keys.certificatePath, "-noout", "-fingerprint", "-ripemd160"])
        #expect(String(decoding: fingerprint.output, as: UTF8.self).contains(
            String(Whitelist.fingerprintLine(keys.certificate.fingerprint(algorithm: .rmd160)).dropLast("-RMD160".count))))
    }

    @Test("a PKCS#1 private key from openssl genrsa -traditional loads and signs")
    func pkcs1PrivateKey() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/pkcs1.key"
        let generated = try Self.openssl(["genrsa", "-traditional", "-out", path, "2048"])
        #expect(generated.status == 0)
        #expect(String(decoding: try Self.read(path), as: UTF8.self).hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        let key = try RSAPrivateKey(contentsOf: path)
        let message = Array("da39a3ee5e6b4b0d3255bfef95601890afd80709".utf8)
        #expect(key.publicKey.verifyRecover(signature: try key.signRaw(message)) == message)
        #expect(key.publicKey.verifySHA1(signature: try key.signSHA1(message), message: message))
    }

    static func openssl(_ arguments: [String]) throws -> (status: Int32, output: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, Array(output))
    }
}
