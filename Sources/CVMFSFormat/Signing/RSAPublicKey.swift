import CCrypto

/// An RSA public key: a repository master key (whitelist, docs/format/manifest-and-signatures.md
/// §3.3) or the key of a repository certificate (manifest, §2.2).
///
/// `@unchecked Sendable`: the `EVP_PKEY` is never modified after creation,
/// and OpenSSL 3 allows concurrent verification with one key object.
public final class RSAPublicKey: @unchecked Sendable {
    let key: OpaquePointer

    /// Takes over one reference to `key`.
    init(owning key: OpaquePointer) {
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// Reads a PEM `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) RSA
    /// key, the format of `CVMFS_PUBLIC_KEY` files (§6). `source` names the
    /// origin in the error, normally the file path.
    public convenience init(pem: [UInt8], source: String = "PEM data") throws(SignatureError) {
        let parsed = try PEMKey.readRSA(pem, source: source) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
        self.init(owning: parsed)
    }

    /// Reads a PEM public key file.
    public convenience init(contentsOf path: String) throws(SignatureError) {
        try self.init(pem: KeyFile.read(path), source: path)
    }

    /// The key as PEM SubjectPublicKeyInfo (`<fqrn>.pub`).
    public func pem() -> [UInt8] {
        guard let out = MemoryBIO.writing({ PEM_write_bio_PUBKEY($0, key) == 1 }) else {
            fatalError("OpenSSL cannot encode a loaded public key: \(OpenSSLErrorQueue.drain())")
        }
        return out
    }

    /// Size of the modulus in bytes: the length of every signature.
    public var modulusBytes: Int { Int(EVP_PKEY_get_size(key)) }

    /// Recovers the message from a raw PKCS#1 v1.5 type-1 signature, with no
    /// digest and no DigestInfo (`RSA_public_decrypt`, the whitelist scheme
    /// of §1 step 5). `nil` if the signature does not decrypt to a valid block.
    public func verifyRecover(signature: [UInt8]) -> [UInt8]? {
        guard let ctx = EVP_PKEY_CTX_new(key, nil) else { fatalError("OpenSSL cannot allocate a key context") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_verify_recover_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 else {
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        var out = [UInt8](repeating: 0, count: modulusBytes)
        var length = out.count
        let rc = signature.withUnsafeBufferPointer { sig in
            EVP_PKEY_verify_recover(ctx, &out, &length, sig.baseAddress, sig.count)
        }
        guard rc == 1 else {
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        return Array(out[0..<length])
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature with SHA-1 over `message`
    /// (`EVP_VerifyInit(EVP_sha1())`, the manifest scheme of §2.2).
    public func verifySHA1(signature: [UInt8], message: [UInt8]) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("OpenSSL cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha1(), nil, key) == 1 else {
            _ = OpenSSLErrorQueue.drain()
            return false
        }
        let rc = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                EVP_DigestVerify(ctx, sig.baseAddress, sig.count, msg.baseAddress, msg.count)
            }
        }
        _ = OpenSSLErrorQueue.drain()
        return rc == 1
    }
}
