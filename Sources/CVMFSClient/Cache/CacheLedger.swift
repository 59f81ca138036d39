import CVMFSFormat

/// Where a managed cache keeps its quota, LRU order and pins, so that
/// `ObjectCache` asks the ledger instead of asking which mode it is in:
/// `PrivateCacheLedger` (one process owns the directory, the in-memory state
/// is the truth, `cachedb` follows it) or `SharedCacheLedger` (several
/// processes, `cachedb` under `lock_cachedb` is the truth).
///
/// Every requirement is called with `ObjectCache.state`'s lock held; `s` is
/// that state. Implementations are classes reached only through the state,
/// so they need no lock of their own.
protocol CacheLedger: AnyObject {
    /// A miss in this process's view: if another process filled `hash` since,
    /// adds its entry to `s` and returns true.
    func adopt(_ hash: ContentHash, into s: inout ObjectCacheState) throws(CacheError) -> Bool
    /// Takes this ledger's hold on an object being pinned; false if the
    /// object is gone (evicted by another process).
    func holdPin(_ hash: ContentHash) -> Bool
    /// Drops that hold after the last unpin.
    func releasePin(_ hash: ContentHash)
    /// Records the accesses batched in `s.dirty`.
    func flush(_ s: inout ObjectCacheState) throws(CacheError)
    /// Forgets the row of an object whose file vanished (its entry is gone from `s`).
    func forget(_ hash: ContentHash) throws(CacheError)
    /// Evicts unpinned objects, least recently used first, until at most
    /// `target` bytes are used; returns how many went. A failure to record
    /// it goes to `s.lastDatabaseError` (the next open reconciles).
    func evict(_ s: inout ObjectCacheState, toUsed target: Int64) -> Int
    /// Reserves `amount` more bytes for this process's fills, evicting first
    /// if needed; `s.reserved` grows by `amount` or the call throws `noSpace`.
    func reserve(_ s: inout ObjectCacheState, _ hash: ContentHash, amount: Int64, limit: Int64) throws(CacheError)
    /// Gives back `amount` reserved bytes (a fill that ended either way).
    func release(_ s: inout ObjectCacheState, reservation amount: Int64)
    /// Makes a verified temp file the cached object, turns its reservation
    /// into use and takes the pin if asked; returns the descriptor to hand
    /// out (`readFD` or the one of a copy another process committed first).
    /// Throws `pinLimitExceeded` only after the object is placed, unpinned,
    /// and its reservation used; any other error leaves both undone.
    func commit(_ s: inout ObjectCacheState, _ fill: FinishedFill) throws(CacheError) -> CInt
    /// Bytes the cache holds: this process's view, or every process's.
    func usedBytes(_ s: borrowing ObjectCacheState) -> Int64
    /// Every cached object, least recently used first.
    func list(_ s: inout ObjectCacheState) -> [CacheListEntry]
    /// At close: pending accesses are written and what this process held is given back.
    func close(_ s: inout ObjectCacheState)
}

/// A fill whose bytes verified, ready for `CacheLedger.commit`.
struct FinishedFill {
    var hash: ContentHash
    var tempPath: String
    var tempFD: CInt
    var readFD: CInt
    var size: Int64
    var kind: CacheObjectKind
    var description: String
    var pin: Bool
    /// The bytes reserved for this fill, now to become `used`.
    var reservation: Int64
    /// The pin limit (half the quota).
    var threshold: Int64
}
