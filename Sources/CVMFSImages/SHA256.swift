import CCrypto
import CVMFSFormat

/// Incremental SHA-256, the digest of OCI content addresses.
struct SHA256Hasher: ~Copyable {
    private var context = SHA256_CTX()

    init() { SHA256_Init(&context) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        SHA256_Update(&context, base, bytes.count)
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Ends the computation; the result is `sha256:<hex>`.
    mutating func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { _ = SHA256_Final($0.baseAddress, &context) }
        return Digest(algorithm: "sha256", hex: Hex.encode(out))
    }

    static func digest(_ bytes: [UInt8]) -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}
