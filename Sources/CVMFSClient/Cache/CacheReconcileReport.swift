/// What `ObjectCache` repaired when it opened a cache directory (crash safety).
public struct CacheReconcileReport: Sendable, Hashable, CustomStringConvertible {
    /// Leftover downloads deleted from `txn/`.
    public var removedTempFiles = 0
    /// `cachedb` rows dropped because their file is missing (or their name is invalid).
    public var droppedRows = 0
    /// Files in `00`…`ff` that had no row and were added (ordered by access time).
    public var addedFiles = 0
    /// Rows whose size differed from the file's and were corrected.
    public var resizedRows = 0
    /// Files in `00`…`ff` whose names are not object names (left alone).
    public var unknownFiles = 0
    /// `cachedb` was missing or unreadable and was created anew.
    public var databaseRecreated = false
    /// Objects evicted because the cache was over its limit at open.
    public var evictedObjects = 0

    public init() {}

    /// True when nothing had to be fixed.
    public var isClean: Bool {
        removedTempFiles == 0 && droppedRows == 0 && addedFiles == 0 && resizedRows == 0 && !databaseRecreated && evictedObjects == 0
    }

    public var description: String {
        "removed \(removedTempFiles) temp files, dropped \(droppedRows) rows, added \(addedFiles) files, "
            + "resized \(resizedRows) rows, \(unknownFiles) unknown files, evicted \(evictedObjects)"
            + (databaseRecreated ? ", recreated cachedb" : "")
    }
}
