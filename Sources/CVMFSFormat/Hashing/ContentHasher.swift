import CCrypto

/// Incremental content hashing with one of the CernVM-FS algorithms.
///
/// SHA-1 and RIPEMD-160 use OpenSSL's context structs, which live inline and
/// allocate nothing; SHAKE128 needs an EVP context (squeezed to 160 bits,
/// docs/format/objects-and-chunks.md §1).
public struct ContentHasher: ~Copyable {
    public let algorithm: HashAlgorithm
    private var sha: SHA_CTX
    private var rmd: RIPEMD160_CTX
    private let evp: OpaquePointer?

    public init(_ algorithm: HashAlgorithm) {
        self.algorithm = algorithm
        sha = SHA_CTX()
        rmd = RIPEMD160_CTX()
        switch algorithm {
        case .sha1:
            evp = nil
            SHA1_Init(&sha)
        case .rmd160:
            evp = nil
            RIPEMD160_Init(&rmd)
        case .shake128:
            guard let ctx = EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx, EVP_shake128(), nil) == 1 else {
                fatalError("OpenSSL cannot initialise SHAKE128")
            }
            evp = ctx
        }
    }

    deinit {
        if let evp { EVP_MD_CTX_free(evp) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        switch algorithm {
        case .sha1: SHA1_Update(&sha, base, bytes.count)
        case .rmd160: RIPEMD160_Update(&rmd, base, bytes.count)
        case .shake128: EVP_DigestUpdate(evp, base, bytes.count)
        }
    }

    public mutating func update<C: ContiguousBytes>(_ bytes: C) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Ends the computation. The hasher must not be updated afterwards.
    public mutating func finalize() -> ContentHash {
        var out = (UInt64(0), UInt64(0), UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &out) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            switch algorithm {
            case .sha1: SHA1_Final(p, &sha)
            case .rmd160: RIPEMD160_Final(p, &rmd)
            case .shake128: EVP_DigestFinalXOF(evp, p, HashAlgorithm.digestLength)
            }
        }
        return withUnsafeBytes(of: &out) { raw in
            ContentHash(algorithm: algorithm, digest: UnsafeRawBufferPointer(rebasing: raw[0..<HashAlgorithm.digestLength]))!
        }
    }

    /// Hashes a complete buffer in one call.
    public static func hash<C: ContiguousBytes>(_ bytes: C, algorithm: HashAlgorithm) -> ContentHash {
        var hasher = ContentHasher(algorithm)
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// `ContiguousBytes` without Foundation: the byte containers we hash.
public protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension UnsafeRawBufferPointer: ContiguousBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}
