#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import CVMFSFormat

/// The ledger of a cache one process owns (the default): the in-memory state
/// is the truth and `cachedb` follows it, opened exclusively as upstream does.
final class PrivateCacheLedger: CacheLedger {
    let directory: CacheDirectory
    let database: CacheDatabase

    private init(directory: CacheDirectory, database: CacheDatabase) {
        self.directory = directory
        self.database = database
    }

    /// Crash recovery at open (docs/format/client-behaviour.md §10.1): deletes leftover
    /// downloads in `txn/`, opens `cachedb` (recreating it if unreadable),
    /// adds files that have no row (in access-time order), drops rows whose
    /// file is gone, fixes sizes, clears all pins, and evicts if over the limit.
    static func open(_ directory: CacheDirectory, limit: Int64, into s: inout ObjectCacheState,
                     report: inout CacheReconcileReport) throws(CacheError) -> PrivateCacheLedger {
        ObjectCache.removeStaleTemps(directory, onlyUnheld: false, report: &report)
        let dbPath = directory.databasePath
        let existed = (try? CacheSyscall.stat(dbPath)) != nil
        var db: CacheDatabase
        var rows: [CacheDatabase.Row]
        do {
            let opened = try CacheDatabase(path: dbPath)
            rows = try opened.allRows()
            db = opened
            report.databaseRecreated = !existed
        } catch {
            // A database in use by another cache manager is not ours to delete (SQLITE_BUSY, SQLITE_LOCKED).
            if case .database(let cause) = error, cause.primaryCode == SQLITE_BUSY || cause.primaryCode == SQLITE_LOCKED { throw error }
            try? CacheSyscall.unlink(dbPath)
            try? CacheSyscall.unlink(dbPath + "-journal")
            db = try CacheDatabase(path: dbPath)
            rows = []
            report.databaseRecreated = true
        }

        // After a clean shutdown the database is exact; only a crash (or a
        // missing database) needs the scan of every file, which takes seconds
        // on a large cache (upstream's crash guard).
        let crashed = (try? CacheSyscall.stat(directory.crashGuardPath)) != nil
        var onDisk: [ContentHash: (size: Int64, atime: Int64)] = [:]
        if existed && !crashed && !report.databaseRecreated {
            for row in rows {
                if let hash = ContentHash(printable: row.sha1) { onDisk[hash] = (row.size, 0) }
            }
        } else {
            for file in ObjectCache.scanObjects(directory) { onDisk[file.hash] = (file.size, file.atime) }
        }

        var maxSequence: Int64 = 0
        try db.transaction { () throws(CacheError) in
            maxSequence = try ObjectCache.merge(rows, onDisk: onDisk, into: &s, database: db, keepPinnedColumn: false,
                                                report: &report)
            // All pins are cleared when the database is opened (§10.1).
            try db.execute("UPDATE cache_catalog SET pinned = 0 WHERE pinned != 0")
        }
        let ledger = PrivateCacheLedger(directory: directory, database: db)
        s.nextSequence = maxSequence + 1
        s.used = s.entries.values.reduce(0) { $0 + $1.size }
        if s.used > limit {
            report.evictedObjects = ledger.evict(&s, toUsed: limit / 2)
        }
        if let fd = try? CacheSyscall.open(directory.crashGuardPath, O_WRONLY | O_CREAT, 0o600) {
            CacheSyscall.close(fd)
        }
        return ledger
    }

    func adopt(_ hash: ContentHash, into s: inout ObjectCacheState) throws(CacheError) -> Bool { false }

    func holdPin(_ hash: ContentHash) -> Bool { true }

    func releasePin(_ hash: ContentHash) {}

    func flush(_ s: inout ObjectCacheState) throws(CacheError) {
        var seen = Set<ContentHash>()
        let entries = s.entries
        let dirty = s.dirty
        try database.transaction { () throws(CacheError) in
            for hash in dirty where seen.insert(hash).inserted {
                guard let e = entries[hash] else { continue }
                try database.touch(sha1: hash.description, acseq: e.acseq, pinned: e.pins > 0 ? 1 : 0)
            }
        }
    }

    func forget(_ hash: ContentHash) throws(CacheError) {
        try database.delete(sha1: hash.description)
    }

    func evict(_ s: inout ObjectCacheState, toUsed target: Int64) -> Int {
        guard s.used > target else { return 0 }
        ObjectCache.flush(&s)
        let candidates = s.entries.filter { $0.value.pins == 0 }.sorted { $0.value.acseq < $1.value.acseq }
        var doomed: [ContentHash] = []
        for (hash, entry) in candidates {
            if s.used <= target { break }
            try? CacheSyscall.unlink(directory.objectPath(hash))
            s.entries.removeValue(forKey: hash)
            s.used -= entry.size
            doomed.append(hash)
        }
        do throws(CacheError) {
            try database.transaction { () throws(CacheError) in
                for hash in doomed { try database.delete(sha1: hash.description) }
            }
        } catch { s.lastDatabaseError = error }
        return doomed.count
    }

    func reserve(_ s: inout ObjectCacheState, _ hash: ContentHash, amount: Int64, limit: Int64) throws(CacheError) {
        if s.used + s.reserved + amount > limit {
            // Upstream cleans down to the threshold (limit/2) when an insert overflows.
            _ = evict(&s, toUsed: max(limit / 2 - s.reserved - amount, 0))
        }
        if s.used + s.reserved + amount > limit {
            throw .noSpace(hash: hash, needed: amount, pinned: s.pinned, limit: limit)
        }
        s.reserved += amount
    }

    func release(_ s: inout ObjectCacheState, reservation amount: Int64) {
        s.reserved -= amount
    }

    func commit(_ s: inout ObjectCacheState, _ fill: FinishedFill) throws(CacheError) -> CInt {
        let hash = fill.hash
        do { try directory.moveIntoPlace(fill.tempPath, hash) } catch {
            CacheSyscall.close(fill.readFD)
            throw .io(operation: "rename", path: directory.objectPath(hash), errno: error.rawValue)
        }
        s.reserved -= fill.reservation
        if let old = s.entries.removeValue(forKey: hash) {
            s.used -= old.size
            if old.pins > 0 { s.pinned -= old.size }
        }
        var entry = CacheEntry(size: fill.size, acseq: s.nextSequence, kind: fill.kind, description: fill.description, pins: 0)
        s.nextSequence += 1
        var pinRefusal: CacheError?
        if fill.pin {
            if s.pinned + fill.size > fill.threshold {
                pinRefusal = .pinLimitExceeded(hash: hash, size: fill.size, pinned: s.pinned, threshold: fill.threshold)
            } else {
                entry.pins = 1
                s.pinned += fill.size
            }
        }
        s.entries[hash] = entry
        s.used += fill.size
        do throws(CacheError) {
            try database.insert(CacheDatabase.Row(
                sha1: hash.description, size: fill.size, acseq: entry.acseq, path: fill.description,
                type: fill.kind.databaseType, pinned: entry.pins > 0 ? 1 : 0))
        } catch { s.lastDatabaseError = error }
        if let pinRefusal {
            CacheSyscall.close(fill.readFD)
            throw pinRefusal
        }
        return fill.readFD
    }

    func usedBytes(_ s: borrowing ObjectCacheState) -> Int64 { s.used }

    func list(_ s: inout ObjectCacheState) -> [CacheListEntry] {
        s.entries.sorted { $0.value.acseq < $1.value.acseq }.map {
            CacheListEntry(hash: $0.key, size: $0.value.size, kind: $0.value.kind,
                           pinned: $0.value.pins > 0, description: $0.value.description)
        }
    }

    /// A clean close removes the crash guard, so the next open trusts `cachedb`.
    func close(_ s: inout ObjectCacheState) {
        ObjectCache.flush(&s)
        if s.lastDatabaseError == nil { try? CacheSyscall.unlink(directory.crashGuardPath) }
    }
}
