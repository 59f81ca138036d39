import CCrypto

/// The MD5 of a repository path split into the two signed 64-bit integers that
/// key catalog rows (docs/format/catalogs.md §3): bytes 0–7 and 8–15, little-endian.
public struct PathHash: Hashable, Sendable {
    public let high: Int64   // md5path_1
    public let low: Int64    // md5path_2

    public init(high: Int64, low: Int64) {
        self.high = high
        self.low = low
    }

    /// The parent hash of a root catalog's root entry: a null digest, not MD5("").
    public static let null = PathHash(high: 0, low: 0)

    /// MD5 of the path bytes. The root is the empty path.
    @inlinable
    public init(path: UnsafeRawBufferPointer) {
        var ctx = MD5_CTX()
        var digest = (UInt64(0), UInt64(0))
        MD5_Init(&ctx)
        if let base = path.baseAddress, path.count > 0 { MD5_Update(&ctx, base, path.count) }
        withUnsafeMutableBytes(of: &digest) { raw in
            _ = MD5_Final(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &ctx)
        }
        high = Int64(bitPattern: UInt64(littleEndian: digest.0))
        low = Int64(bitPattern: UInt64(littleEndian: digest.1))
    }

    public init(path: String) {
        var p = path
        self = p.withUTF8 { PathHash(path: UnsafeRawBufferPointer($0)) }
    }

    /// The 32-character hex MD5, as in manifest key `R`.
    public var hex: String {
        var words = (UInt64(bitPattern: high).littleEndian, UInt64(bitPattern: low).littleEndian)
        return withUnsafeBytes(of: &words) { Hex.encode($0) }
    }
}
