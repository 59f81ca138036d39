/// A content digest with its algorithm: the name of every object in a repository.
///
/// The 20 digest bytes are stored inline, so the value never touches the heap.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible {
    public let algorithm: HashAlgorithm
    @usableFromInline var d0: UInt64
    @usableFromInline var d1: UInt64
    @usableFromInline var d2: UInt32

    /// Builds a hash from its raw digest; `nil` unless exactly 20 bytes are given.
    public init?(algorithm: HashAlgorithm, digest: UnsafeRawBufferPointer) {
        guard digest.count == HashAlgorithm.digestLength else { return nil }
        self.algorithm = algorithm
        d0 = digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        d1 = digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        d2 = digest.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
    }

    public init?<C: Collection>(algorithm: HashAlgorithm, digest: C) where C.Element == UInt8 {
        let bytes = Array(digest)
        guard let value = bytes.withUnsafeBytes({ ContentHash(algorithm: algorithm, digest: $0) }) else { return nil }
        self = value
    }

    /// The raw digest bytes.
    public var digest: [UInt8] {
        withDigest { Array($0) }
    }

    /// Lends the raw digest bytes for the duration of `body`.
    @inlinable
    public func withDigest<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var words = (d0, d1, d2)
        return try withUnsafeBytes(of: &words) { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[0..<HashAlgorithm.digestLength]))
        }
    }

    /// Lowercase hex of the digest, without the algorithm id.
    public var hex: String {
        withDigest { Hex.encode($0) }
    }

    /// The printable form: hex plus algorithm id (`…-rmd160`), no suffix letter.
    public var description: String { hex + algorithm.suffixID }

    /// Parses a printable hash; the length picks the algorithm (`shash::MkFromHexPtr`).
    public init?(printable: some StringProtocol) {
        let text = String(printable)
        let algorithm: HashAlgorithm
        let hexPart: Substring
        if text.utf8.count == 40 {
            algorithm = .sha1
            hexPart = Substring(text)
        } else if let found = HashAlgorithm.allCases.first(where: { $0 != .sha1 && text.hasSuffix($0.suffixID) && text.utf8.count == $0.printableLength }) {
            algorithm = found
            hexPart = text.dropLast(found.suffixID.count)
        } else {
            return nil
        }
        guard let bytes = Hex.decode(hexPart), bytes.count == HashAlgorithm.digestLength else { return nil }
        self.init(algorithm: algorithm, digest: bytes)
    }

    /// Parses a printable hash followed by an optional object suffix letter.
    public init?(suffixed text: some StringProtocol) {
        if let plain = ContentHash(printable: text) {
            self = plain
        } else if let plain = ContentHash(printable: text.dropLast()) {
            self = plain
        } else {
            return nil
        }
    }

    /// The object's path relative to the repository root: `data/xx/rest<id><suffix>`.
    public func objectPath(suffix: ObjectSuffix) -> String {
        let h = hex
        return "data/" + h.prefix(2) + "/" + h.dropFirst(2) + algorithm.suffixID + suffix.letter
    }

    /// The object's path inside a client cache directory: `xx/rest<id>`, no suffix letter.
    public var cachePath: String {
        let h = hex
        return h.prefix(2) + "/" + h.dropFirst(2) + algorithm.suffixID
    }
}
