/// In-memory bookkeeping of one object in a managed cache.
/// Lives in `ObjectCacheState`, guarded by `ObjectCache.state`.
struct CacheEntry {
    /// Inflated size in bytes (what is on disk).
    var size: Int64
    /// Access sequence number: larger is more recently used.
    var acseq: Int64
    var kind: CacheObjectKind
    /// The `path` column: what the object is for.
    var description: String
    /// Pin reference count; pinned objects are never evicted.
    var pins: Int32
}
