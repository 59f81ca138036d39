import CVMFSFormat

/// One object in the cache, as `talk cache list` shows it.
public struct CacheListEntry: Sendable, Hashable {
    public var hash: ContentHash
    /// Inflated size in bytes.
    public var size: Int64
    public var kind: CacheObjectKind
    public var pinned: Bool
    /// The `path` column of `cachedb` (what the object is for).
    public var description: String
}
