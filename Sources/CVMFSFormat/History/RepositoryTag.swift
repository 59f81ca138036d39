/// One named revision in the history database (docs/format/repository-layout.md §4.1).
public struct RepositoryTag: Sendable, Equatable {
    public var name: String
    /// The root catalog of the tagged revision (suffix `C` implied).
    public var rootCatalog: ContentHash
    public var revision: UInt64
    /// UNIX seconds of the revision's publication.
    public var timestamp: Int64
    public var description: String
    /// The root catalog's size after decompression (manifest key `B`).
    public var catalogSize: UInt64

    /// Upstream's two tags that follow every publication: `trunk` is the
    /// newest revision, `trunk-previous` the one before it.
    public static let trunk = "trunk"
    public static let trunkPrevious = "trunk-previous"

    public init(name: String, rootCatalog: ContentHash, revision: UInt64, timestamp: Int64, description: String, catalogSize: UInt64) {
        self.name = name
        self.rootCatalog = rootCatalog
        self.revision = revision
        self.timestamp = timestamp
        self.description = description
        self.catalogSize = catalogSize
    }

    /// Whether `name` may be given to a tag by hand: upstream's tag
    /// alphabet (letters, digits, `- _ . / :`), not empty, and not one of
    /// the two tags the publisher moves itself.
    public static func isValidCustomName(_ name: String) -> Bool {
        guard !name.isEmpty, name != trunk, name != trunkPrevious else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == 0x2D || c == 0x5F || c == 0x2E || c == 0x2F || c == 0x3A
        }
    }
}
