/// A content-hash algorithm of CernVM-FS (docs/format/repository-layout.md §3.2).
///
/// The raw values are upstream's `shash::Algorithms` enum, so that catalog flag
/// bits decode with `rawValue = bits + 1` (docs/format/catalogs.md §4).
public enum HashAlgorithm: Int, Sendable, CaseIterable, CustomStringConvertible {
    case sha1 = 1
    case rmd160 = 2
    case shake128 = 3

    /// Every content digest CernVM-FS uses is 160 bits long.
    public static let digestLength = 20

    /// The id appended to the hex digest in printable hashes and object names.
    public var suffixID: String {
        switch self {
        case .sha1: return ""
        case .rmd160: return "-rmd160"
        case .shake128: return "-shake128"
        }
    }

    /// Length of the printable form (hex digest plus algorithm id).
    public var printableLength: Int { 40 + suffixID.utf8.count }

    /// The algorithm stored in bits 8–10 of a catalog entry's flags.
    public init?(catalogFlags flags: Int64) {
        self.init(rawValue: Int((flags >> 8) & 7) + 1)
    }

    /// The value to put in bits 8–10 of a catalog entry's flags.
    public var catalogFlagBits: Int64 { Int64(rawValue - 1) << 8 }

    /// The name users type on the command line.
    public var description: String {
        switch self {
        case .sha1: return "sha1"
        case .rmd160: return "rmd160"
        case .shake128: return "shake128"
        }
    }

    public init?(name: String) {
        switch name.lowercased() {
        case "sha1", "sha-1": self = .sha1
        case "rmd160", "ripemd160", "ripemd-160": self = .rmd160
        case "shake128", "shake-128": self = .shake128
        default: return nil
        }
    }
}
