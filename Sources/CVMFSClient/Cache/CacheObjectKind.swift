/// What a cached object is used for; stored in `cachedb` as `type`
/// (0 regular, 1 catalog; docs/format/client-behaviour.md §10.1). Chunks are regular
/// files to upstream and are told apart by their `path` description.
public enum CacheObjectKind: Sendable, Hashable, CustomStringConvertible {
    case regular
    case catalog
    case chunk

    /// The `type` column value.
    var databaseType: Int64 { self == .catalog ? 1 : 0 }

    /// Default `path` column description for objects stored without one.
    var defaultDescription: String {
        switch self {
        case .regular: return "regular file"
        case .catalog: return "file catalog"
        case .chunk: return "Part of a chunked file"
        }
    }

    init(databaseType: Int64, description: String) {
        if databaseType == 1 { self = .catalog } else if description.hasPrefix("Part of") { self = .chunk } else { self = .regular }
    }

    public var description: String {
        switch self {
        case .regular: return "regular"
        case .catalog: return "catalog"
        case .chunk: return "chunk"
        }
    }
}
