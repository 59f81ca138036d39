import CCrypto

/// A repository certificate: an X.509 certificate whose only job is to carry
/// the public key that signs the manifest (docs/format/manifest-and-signatures.md §4).
///
/// `@unchecked Sendable`: the `X509` is never modified after creation, and
/// reading it (DER, PEM, public key) from several threads is safe in OpenSSL 3.
public final class Certificate: @unchecked Sendable {
    private let certificate: OpaquePointer

    private init(owning certificate: OpaquePointer) {
        self.certificate = certificate
    }

    deinit {
        X509_free(certificate)
    }

    /// Parses PEM as `PEM_read_bio_X509_AUX` does, which accepts both
    /// `BEGIN CERTIFICATE` and `BEGIN TRUSTED CERTIFICATE`.
    public convenience init(pem: [UInt8]) throws(SignatureError) {
        let parsed = MemoryBIO.reading(pem) { PEM_read_bio_X509_AUX($0, nil, nil, nil) }
        guard let parsed else { throw .certificateUnparsable(reason: "no PEM certificate (\(OpenSSLErrorQueue.drain()))") }
        _ = OpenSSLErrorQueue.drain()
        self.init(owning: parsed)
    }

    /// Parses DER bytes.
    public convenience init(der: [UInt8]) throws(SignatureError) {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw .certificateUnparsable(reason: "invalid DER (\(OpenSSLErrorQueue.drain()))") }
        self.init(owning: parsed)
    }

    /// Reads a PEM certificate file (`<fqrn>.crt`).
    public convenience init(contentsOf path: String) throws(SignatureError) {
        let bytes = try KeyFile.read(path)
        do {
            try self.init(pem: bytes)
        } catch {
            throw .keyFileUnparsable(path: path)
        }
    }

    /// The DER encoding (`i2d_X509`): what fingerprints hash.
    public var der: [UInt8] {
        let length = i2d_X509(certificate, nil)
        precondition(length > 0, "OpenSSL cannot encode a parsed certificate")
        var out = [UInt8](repeating: 0, count: Int(length))
        out.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return out
    }

    /// The fingerprint as whitelists list it: the content hash of the DER
    /// bytes in `algorithm` (§4; SHAKE128 squeezed to 160 bits).
    public func fingerprint(algorithm: HashAlgorithm) -> ContentHash {
        ContentHasher.hash(der, algorithm: algorithm)
    }

    /// The certified RSA public key, which verifies the manifest.
    public func publicKey() throws(SignatureError) -> RSAPublicKey {
        guard let key = X509_get_pubkey(certificate) else {
            throw .certificateUnparsable(reason: "no readable public key (\(OpenSSLErrorQueue.drain()))")
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw .certificateUnparsable(reason: "the public key is not RSA")
        }
        return RSAPublicKey(owning: key)
    }

    /// The certificate as PEM (`BEGIN CERTIFICATE`), as stored in the `X` object.
    public func pem() -> [UInt8] {
        guard let out = MemoryBIO.writing({ PEM_write_bio_X509($0, certificate) == 1 }) else {
            fatalError("OpenSSL cannot encode a parsed certificate: \(OpenSSLErrorQueue.drain())")
        }
        return out
    }

    /// A self-signed X.509 v3 certificate for `key`, as a publisher creates
    /// for a new repository. Clients check neither dates nor issuer (§4), so
    /// a random serial and a SHA-256 self-signature are enough.
    public static func selfSigned(key: RSAPrivateKey, commonName: String, validDays: Int) throws(SignatureError) -> Certificate {
        guard let x509 = X509_new() else { fatalError("OpenSSL cannot allocate a certificate") }
        let certificate = Certificate(owning: x509)
        guard let serial = BN_new() else { fatalError("OpenSSL cannot allocate a big number") }
        defer { BN_free(serial) }
        let name = X509_get_subject_name(x509)
        let ok = X509_set_version(x509, 2) == 1
            && BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1
            && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x509)) != nil
            && X509_gmtime_adj(X509_getm_notBefore(x509), 0) != nil
            && X509_gmtime_adj(X509_getm_notAfter(x509), validDays * 86_400) != nil
            && X509_set_pubkey(x509, key.key) == 1
            && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
            && X509_set_issuer_name(x509, name) == 1
            && X509_sign(x509, key.key, EVP_sha256()) > 0
        guard ok else {
            throw .cryptoFailure(operation: "create a self-signed certificate", reason: OpenSSLErrorQueue.drain())
        }
        return certificate
    }
}
