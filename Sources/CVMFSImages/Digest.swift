/// An OCI content digest, `algorithm:hex`. Only sha256 is accepted, like every registry in use.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let hex: String

    init(algorithm: String, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    /// Parses `sha256:<64 lowercase hex digits>`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "sha256", parts[1].utf8.count == 64,
              parts[1].utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        algorithm = "sha256"
        hex = String(parts[1])
    }

    public var description: String { "\(algorithm):\(hex)" }
    /// The first two hex digits: the fan-out directory of `.flat` and `.layers`.
    public var prefix: String { String(hex.prefix(2)) }
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    static func parse(_ text: String, what: String) throws(ImageError) -> Digest {
        guard let digest = Digest(text) else { throw .manifest("\(what): '\(text)' is not a sha256 digest") }
        return digest
    }
}
