import CVMFSFormat

/// Everything mutable in an `ObjectCache`; lives inside its `Mutex`.
struct ObjectCacheState: ~Copyable {
    /// `nil` for an unmanaged cache (limit -1).
    var database: CacheDatabase?
    /// The cross-process bookkeeping of a shared cache (`nil` for a private
    /// one). When set, `cachedb` is the source of truth for usage and LRU
    /// order, and `entries` is only this process's view, used by the hit path.
    var shared: SharedCacheLedger?
    var entries: [ContentHash: CacheEntry] = [:]
    /// Hashes touched (or pinned/unpinned) since the last write to `cachedb`.
    /// Reserved up front so that a cache hit never allocates.
    var dirty: [ContentHash] = []
    var nextSequence: Int64 = 1
    /// Sum of the sizes of all entries.
    var used: Int64 = 0
    /// Space promised to this process's fills in progress; `used + reserved <= limit`.
    var reserved: Int64 = 0
    /// Sum of the sizes of pinned entries.
    var pinned: Int64 = 0
    var inFlight: [ContentHash: CacheFill] = [:]
    /// Last error writing batched touches to `cachedb` (non-fatal: the
    /// database is reconciled with the disk at the next open).
    var lastDatabaseError: CacheError?
}
