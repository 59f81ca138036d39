import CVMFSFormat

/// Everything mutable in an `ObjectCache`; lives inside its `Mutex`.
struct ObjectCacheState: ~Copyable {
    /// Where quota, LRU order and pins are kept; `nil` for an unmanaged cache
    /// (limit -1). With a shared ledger, `entries` is only this process's
    /// view, used by the hit path.
    var ledger: (any CacheLedger)?
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
