import CCrypto

/// Reading RSA keys from PEM, shared by the public and the private key types.
enum PEMKey {
    /// Parses `pem` with `read` (a `PEM_read_bio_*` call) and returns the
    /// owned `EVP_PKEY` if it is an RSA key; `source` names the origin in errors.
    static func readRSA(_ pem: [UInt8], source: String, _ read: (OpaquePointer) -> OpaquePointer?) throws(SignatureError) -> OpaquePointer {
        let parsed = MemoryBIO.reading(pem, read)
        _ = OpenSSLErrorQueue.drain()
        guard let parsed else { throw .keyFileUnparsable(path: source) }
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA else {
            EVP_PKEY_free(parsed)
            throw .keyFileUnparsable(path: source)
        }
        return parsed
    }
}
