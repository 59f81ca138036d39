/// One set of `statistics` counters, either `self_*` or `subtree_*`
/// (docs/format/catalogs.md §14). Missing counters read as 0.
public struct CatalogCounters: Hashable, Sendable {
    public var regular: Int64 = 0
    public var symlink: Int64 = 0
    public var special: Int64 = 0
    public var dir: Int64 = 0
    public var nested: Int64 = 0
    public var chunked: Int64 = 0
    public var chunks: Int64 = 0
    public var fileSize: Int64 = 0
    public var chunkedSize: Int64 = 0
    public var xattr: Int64 = 0
    public var external: Int64 = 0
    public var externalFileSize: Int64 = 0

    public init() {}

    /// The counter names without the `self_`/`subtree_` prefix, in the order
    /// upstream's counter table lists them, with key paths to our fields.
    public static var fields: [(name: String, keyPath: WritableKeyPath<CatalogCounters, Int64>)] {
        [
        ("regular", \.regular), ("symlink", \.symlink), ("special", \.special), ("dir", \.dir),
        ("nested", \.nested), ("chunked", \.chunked), ("chunks", \.chunks),
        ("file_size", \.fileSize), ("chunked_size", \.chunkedSize), ("xattr", \.xattr),
        ("external", \.external), ("external_file_size", \.externalFileSize),
        ]
    }

    /// Field-wise sum, for building a parent's `subtree_*` from its children.
    public static func + (a: CatalogCounters, b: CatalogCounters) -> CatalogCounters {
        var sum = a
        for field in fields { sum[keyPath: field.keyPath] += b[keyPath: field.keyPath] }
        return sum
    }

    /// Number of entries (regular + symlink + special + dir), as `statfs` counts them.
    public var entries: Int64 { regular + symlink + special + dir }
}

/// The `statistics` table of one catalog.
public struct CatalogStatistics: Hashable, Sendable {
    /// `self_*`: this catalog's own rows.
    public var own: CatalogCounters
    /// `subtree_*`: all catalogs below this one, at any depth.
    public var subtree: CatalogCounters

    public init(own: CatalogCounters = CatalogCounters(), subtree: CatalogCounters = CatalogCounters()) {
        self.own = own
        self.subtree = subtree
    }
}
