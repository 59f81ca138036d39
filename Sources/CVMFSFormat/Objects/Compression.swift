/// How an object's bytes are stored on the server (docs/format/objects-and-chunks.md §2).
/// The raw value is the code in bits 11–13 of catalog flags.
public enum Compression: Int, Sendable, CustomStringConvertible {
    case zlib = 0
    case none = 1

    public init?(catalogFlags flags: Int64) {
        self.init(rawValue: Int((flags >> 11) & 7))
    }

    public var catalogFlagBits: Int64 { Int64(rawValue) << 11 }

    public var description: String { self == .zlib ? "zlib" : "none" }
}
