import CCrypto

/// An RSA private key of a publisher: the master key that signs the
/// whitelist, or the certificate key that signs the manifest
/// (docs/format/manifest-and-signatures.md §2.2, §3.3).
///
/// `@unchecked Sendable`: the `EVP_PKEY` is never modified after creation,
/// and OpenSSL 3 allows concurrent signing with one key object.
public final class RSAPrivateKey: @unchecked Sendable {
    let key: OpaquePointer

    private init(owning key: OpaquePointer) {
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// Reads a PEM RSA private key, PKCS#1 (`BEGIN RSA PRIVATE KEY`, as
    /// older `openssl genrsa` wrote) or PKCS#8 (`BEGIN PRIVATE KEY`).
    public convenience init(pem: [UInt8], source: String = "PEM data") throws(SignatureError) {
        let parsed = try PEMKey.readRSA(pem, source: source) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        self.init(owning: parsed)
    }

    /// Reads a PEM private key file.
    public convenience init(contentsOf path: String) throws(SignatureError) {
        try self.init(pem: KeyFile.read(path), source: path)
    }

    /// A fresh key; 2048 bits is what `cvmfs_server mkfs` creates.
    public static func generate(bits: Int = 2048) throws(SignatureError) -> RSAPrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw .cryptoFailure(operation: "create an RSA key context", reason: OpenSSLErrorQueue.drain())
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var generated: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1,
              EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1,
              EVP_PKEY_generate(ctx, &generated) == 1,
              let generated
        else {
            throw .cryptoFailure(operation: "generate a \(bits)-bit RSA key", reason: OpenSSLErrorQueue.drain())
        }
        return RSAPrivateKey(owning: generated)
    }

    /// The key as unencrypted PEM PKCS#8, as `openssl genrsa` writes it today.
    public func pem() -> [UInt8] {
        guard let out = MemoryBIO.writing({ PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) == 1 }) else {
            fatalError("OpenSSL cannot encode a loaded private key: \(OpenSSLErrorQueue.drain())")
        }
        return out
    }

    /// The matching public key.
    public var publicKey: RSAPublicKey {
        EVP_PKEY_up_ref(key)
        return RSAPublicKey(owning: key)
    }

    /// Raw PKCS#1 v1.5 type-1 signature of `message` with no digest and no
    /// DigestInfo (`RSA_private_encrypt`, how the whitelist is signed, §3.3).
    /// `message` must be shorter than the modulus minus 11 bytes.
    public func signRaw(_ message: [UInt8]) throws(SignatureError) -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new(key, nil) else { fatalError("OpenSSL cannot allocate a key context") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 else {
            throw .cryptoFailure(operation: "set up raw RSA signing", reason: OpenSSLErrorQueue.drain())
        }
        return try signature(of: message, operation: "sign with raw RSA") { EVP_PKEY_sign(ctx, $0, $1, $2, $3) }
    }

    /// RSASSA-PKCS1-v1_5 signature with SHA-1 over `message`
    /// (`EVP_SignInit(EVP_sha1())`, how the manifest is signed, §2.2).
    public func signSHA1(_ message: [UInt8]) throws(SignatureError) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("OpenSSL cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha1(), nil, key) == 1 else {
            throw .cryptoFailure(operation: "set up RSA-SHA1 signing", reason: OpenSSLErrorQueue.drain())
        }
        return try signature(of: message, operation: "sign with RSA-SHA1") { EVP_DigestSign(ctx, $0, $1, $2, $3) }
    }

    /// Runs one OpenSSL signing call into a buffer of the key's size:
    /// `sign(signature, signatureLength, message, messageLength)`.
    private func signature(
        of message: [UInt8], operation: String,
        _ sign: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Int>, UnsafePointer<UInt8>?, Int) -> Int32
    ) throws(SignatureError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_PKEY_get_size(key)))
        var length = out.count
        let rc = out.withUnsafeMutableBufferPointer { buffer in
            message.withUnsafeBufferPointer { sign(buffer.baseAddress!, &length, $0.baseAddress, $0.count) }
        }
        guard rc == 1 else { throw .cryptoFailure(operation: operation, reason: OpenSSLErrorQueue.drain()) }
        return Array(out[0..<length])
    }
}
