/// Runs the client's trust chain for a repository manifest in the order of
/// docs/format/manifest-and-signatures.md §5: manifest fields, certificate, manifest
/// signature, whitelist, fingerprint. Downloads are the caller's job; this
/// type only judges bytes.
public struct ManifestVerifier: Sendable {
    /// The trusted master public keys (§6); any one may sign the whitelist.
    public let masterKeys: [RSAPublicKey]
    /// The repository being mounted.
    public let fqrn: String
    /// Certificates and revisions the site refuses (§4).
    public let blacklist: Blacklist

    public init(masterKeys: [RSAPublicKey], fqrn: String, blacklist: Blacklist = .empty) {
        self.masterKeys = masterKeys
        self.fqrn = fqrn
        self.blacklist = blacklist
    }

    /// Steps 2–4 of §5: envelope and payload hash, required keys, name, root
    /// path hash, the replay guard `T ≥ minimumTimestamp`, and no revision
    /// below the blacklist's minimum for this repository.
    ///
    /// A client calls this alone first: if the returned root catalog is the
    /// one already mounted, no certificate or whitelist work is needed (§5
    /// step 5). The signature is *not* checked here.
    public func checkManifest(_ bytes: [UInt8], minimumTimestamp: UInt64 = 0) throws(SignatureError) -> Manifest {
        try checkedManifest(bytes, minimumTimestamp: minimumTimestamp).manifest
    }

    /// The whole chain (§5 steps 2–9): returns the manifest only if its
    /// certificate signed it and a master key vouches for that certificate
    /// through an unexpired whitelist.
    ///
    /// - Parameters:
    ///   - manifest: `/.cvmfspublished` as served.
    ///   - whitelist: `/.cvmfswhitelist` as served.
    ///   - certificate: the decompressed `X` object (PEM).
    ///   - now: the current UNIX time, for the whitelist expiry.
    ///   - minimumTimestamp: `T` of the newest copy seen before (0 if none).
    public func verify(
        manifest: [UInt8],
        whitelist: [UInt8],
        certificate: [UInt8],
        now: Int64,
        minimumTimestamp: UInt64 = 0
    ) throws(SignatureError) -> Manifest {
        let (parsed, letter) = try checkedManifest(manifest, minimumTimestamp: minimumTimestamp)

        let cert = try Certificate(pem: certificate)
        guard try cert.publicKey().verifySHA1(signature: letter.signature, message: letter.hashLine) else {
            throw .badSignature(document: .manifest)
        }

        let list = try checkedWhitelist(whitelist, now: now)
        // The blacklist comes before the whitelist match (§5 step 9), in every algorithm it names.
        if let banned = blacklist.certificates.first(where: { $0 == cert.fingerprint(algorithm: $0.algorithm) }) {
            throw .certificateBlacklisted(fqrn: fqrn, fingerprint: banned)
        }
        let listed = list.fingerprints.contains { $0 == cert.fingerprint(algorithm: $0.algorithm) }
        guard listed else {
            throw .certificateNotInWhitelist(fqrn: fqrn, fingerprint: cert.fingerprint(algorithm: parsed.rootCatalog.algorithm))
        }
        // Upstream checks the CA chain only after a fingerprint match (§3.5);
        // without a CA store such a whitelist can never pass.
        if list.requiresCAChain { throw .whitelistCAChainUnsupported(fqrn: fqrn) }
        return parsed
    }

    /// Loads every public key file, failing on the first that cannot be
    /// read or parsed: upstream refuses to mount if any listed key is bad (§6).
    public static func loadPublicKeys(paths: [String]) throws(SignatureError) -> [RSAPublicKey] {
        var keys: [RSAPublicKey] = []
        for path in paths { keys.append(try RSAPublicKey(contentsOf: path)) }
        return keys
    }

    private func checkedManifest(_ bytes: [UInt8], minimumTimestamp: UInt64) throws(SignatureError) -> (manifest: Manifest, letter: Letter) {
        let letter = try Letter(parsing: bytes, document: .manifest)
        let manifest = try Manifest(parsing: letter.payload)
        guard manifest.fqrn == fqrn else {
            throw .nameMismatch(document: .manifest, expected: fqrn, found: manifest.fqrn ?? "")
        }
        guard manifest.rootPath == Manifest.rootPathHash else { throw .rootPathHashMismatch(found: manifest.rootPath) }
        let timestamp = manifest.timestamp ?? 0
        guard timestamp >= minimumTimestamp else { throw .outdatedTimestamp(found: timestamp, minimum: minimumTimestamp) }
        if let minimum = blacklist.minimumRevision(of: fqrn), manifest.revision < minimum {
            throw .revisionBlacklisted(fqrn: fqrn, revision: manifest.revision, minimum: minimum)
        }
        return (manifest, letter)
    }

    /// §5 step 8: parse, expiry, name, then the master-key signature.
    private func checkedWhitelist(_ bytes: [UInt8], now: Int64) throws(SignatureError) -> Whitelist {
        let letter = try Letter(parsing: bytes, document: .whitelist)
        let list = try Whitelist(parsing: letter.payload)
        guard list.isValid(at: now) else { throw .whitelistExpired(fqrn: list.fqrn, expiry: list.expires) }
        guard list.fqrn == fqrn else { throw .nameMismatch(document: .whitelist, expected: fqrn, found: list.fqrn) }
        // A PKCS#7 whitelist is not RSA-signed at all (§3.4).
        if list.usesPKCS7 { throw .whitelistPKCS7Unsupported(fqrn: fqrn) }

        // Keys whose modulus cannot hold the hash string are skipped (§1 step 5).
        let usable = masterKeys.filter { $0.modulusBytes >= letter.hashLine.count }
        guard !usable.isEmpty else { throw .noUsablePublicKey(document: .whitelist) }
        guard usable.contains(where: { $0.verifyRecover(signature: letter.signature) == letter.hashLine }) else {
            throw .badSignature(document: .whitelist)
        }
        return list
    }
}
