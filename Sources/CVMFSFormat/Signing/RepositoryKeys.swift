/// A publisher's signing keys for one repository, kept in a key directory
/// under upstream's file names so existing `/etc/cvmfs/keys` work as is:
///
/// - `<fqrn>.masterkey`: master private key (signs the whitelist), mode 0600
/// - `<fqrn>.pub`: master public key (what clients trust, docs/format/manifest-and-signatures.md §6)
/// - `<fqrn>.key`: certificate private key (signs the manifest), mode 0600
/// - `<fqrn>.crt`: self-signed PEM certificate for that key (the `X` object)
public struct RepositoryKeys: Sendable {
    public let fqrn: String
    public let directory: String
    public let masterKey: RSAPrivateKey
    public let certificateKey: RSAPrivateKey
    public let certificate: Certificate

    /// How long a generated certificate claims to be valid. Clients ignore the
    /// dates (§4); the whitelist's expiry is what limits trust.
    public static let certificateValidDays = 3650

    public var masterKeyPath: String { directory + "/" + fqrn + ".masterkey" }
    public var publicKeyPath: String { directory + "/" + fqrn + ".pub" }
    public var certificateKeyPath: String { directory + "/" + fqrn + ".key" }
    public var certificatePath: String { directory + "/" + fqrn + ".crt" }

    /// Loads the keys found in `directory` and creates the missing ones.
    ///
    /// A new certificate key always gets a new certificate, since an old
    /// `.crt` would certify a different key.
    public init(directory: String, fqrn: String) throws(SignatureError) {
        self.fqrn = fqrn
        self.directory = directory
        try KeyFile.makeDirectory(directory)

        let masterPath = directory + "/" + fqrn + ".masterkey"
        let publicPath = directory + "/" + fqrn + ".pub"
        let keyPath = directory + "/" + fqrn + ".key"
        let certPath = directory + "/" + fqrn + ".crt"

        if KeyFile.exists(masterPath) {
            masterKey = try RSAPrivateKey(contentsOf: masterPath)
            if !KeyFile.exists(publicPath) { try KeyFile.write(masterKey.publicKey.pem(), to: publicPath, mode: 0o644) }
        } else {
            masterKey = try RSAPrivateKey.generate()
            try KeyFile.write(masterKey.pem(), to: masterPath, mode: 0o600)
            try KeyFile.write(masterKey.publicKey.pem(), to: publicPath, mode: 0o644)
        }

        if KeyFile.exists(keyPath) {
            certificateKey = try RSAPrivateKey(contentsOf: keyPath)
            if KeyFile.exists(certPath) {
                certificate = try Certificate(contentsOf: certPath)
                return
            }
        } else {
            certificateKey = try RSAPrivateKey.generate()
            try KeyFile.write(certificateKey.pem(), to: keyPath, mode: 0o600)
        }
        certificate = try Certificate.selfSigned(key: certificateKey, commonName: fqrn, validDays: Self.certificateValidDays)
        try KeyFile.write(certificate.pem(), to: certPath, mode: 0o644)
    }

    /// The certificate as the `X` object the manifest points to: PEM,
    /// zlib-compressed, named by the hash of the stored bytes (§4).
    public func certificateObject(algorithm: HashAlgorithm) -> (stored: [UInt8], hash: ContentHash) {
        ObjectEncoder.encode(certificate.pem(), algorithm: algorithm, compression: .zlib)
    }

    /// A signed `/.cvmfswhitelist` listing this repository's certificate.
    ///
    /// The fingerprint and the hash line use the repository's algorithm, and
    /// the master key signs the hash line with raw PKCS#1 (§3.1, §3.3).
    /// `validForDays` defaults to upstream's 30 for a master key file.
    public func signedWhitelist(algorithm: HashAlgorithm, validForDays: Int = 30, now: Int64) throws(SignatureError) -> [UInt8] {
        let payload = Whitelist.makePayload(
            fqrn: fqrn,
            created: now,
            expires: now + Int64(validForDays) * 86_400,
            fingerprints: [certificate.fingerprint(algorithm: algorithm)]
        )
        return try Letter.make(payload: payload, algorithm: algorithm) { line throws(SignatureError) in
            try masterKey.signRaw(line)
        }
    }

    /// A signed `/.cvmfspublished`: the hash line in the repository's
    /// algorithm, signed with RSA-SHA1 by the certificate key (§2.2).
    public func signedManifest(_ manifest: Manifest, algorithm: HashAlgorithm) throws(SignatureError) -> [UInt8] {
        try Letter.make(payload: manifest.exportPayload(), algorithm: algorithm) { line throws(SignatureError) in
            try certificateKey.signSHA1(line)
        }
    }
}
