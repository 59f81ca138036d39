#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// The shared cache's answers to `ObjectCache` (`CVMFS_SHARED_CACHE=yes`):
/// every call runs with `ObjectCache.state`'s lock held and takes
/// `lock_cachedb` through `locked` (design in `SharedCacheLedger`).
extension SharedCacheLedger: CacheLedger {
    /// Crash recovery at open: the same checks as the private cache's, done
    /// under `lock_cachedb` so that the processes already using the directory
    /// see one consistent change. Temp files other processes are writing
    /// stay, pins are flocks and need no clearing, and reservations of dead
    /// processes are dropped.
    static func open(_ directory: CacheDirectory, limit: Int64, into s: inout ObjectCacheState,
                     report: inout CacheReconcileReport) throws(CacheError) -> SharedCacheLedger {
        let existed = (try? CacheSyscall.stat(directory.databasePath)) != nil
        let ledger = try SharedCacheLedger(directory: directory)
        report.databaseRecreated = !existed
        let db = ledger.database
        try ledger.locked { () throws(CacheError) in
            ObjectCache.removeStaleTemps(directory, onlyUnheld: true, report: &report)
            let rows = try db.allRows()
            var onDisk: [ContentHash: (size: Int64, atime: Int64)] = [:]
            for file in ObjectCache.scanObjects(directory) { onDisk[file.hash] = (file.size, file.atime) }
            // Only a crash between rename and commit leaves a file without a row.
            let maxSequence = try ObjectCache.merge(rows, onDisk: onDisk, into: &s, database: db, keepPinnedColumn: true,
                                                    report: &report)
            s.nextSequence = maxSequence + 1
            s.used = s.entries.values.reduce(0) { $0 + $1.size }
            try ledger.dropDeadReservations()
            if s.used > limit {
                report.evictedObjects = try ledger.evictLocked(&s, toUsed: limit / 2)
            }
        }
        return ledger
    }

    /// A file counts only if it has its `cachedb` row (a fill renames and
    /// inserts in one locked transaction).
    func adopt(_ hash: ContentHash, into s: inout ObjectCacheState) throws(CacheError) -> Bool {
        guard (try? CacheSyscall.stat(directory.objectPath(hash))) != nil,
              let row = try locked({ () throws(CacheError) in try row(hash) }) else { return false }
        s.entries[hash] = CacheEntry(size: row.size, acseq: s.nextSequence, kind: row.kind,
                                     description: row.description, pins: 0)
        s.nextSequence += 1
        s.used += row.size
        return true
    }

    func holdPin(_ hash: ContentHash) -> Bool { holdPin(hash, directoryFD: directoryFD) }

    /// Each batched touch becomes the newest in the shared order.
    func flush(_ s: inout ObjectCacheState) throws(CacheError) {
        var seen = Set<ContentHash>()
        let entries = s.entries
        let dirty = s.dirty
        try locked { () throws(CacheError) in
            for hash in dirty where seen.insert(hash).inserted {
                guard let e = entries[hash] else { continue }
                try touch(hash, pinned: e.pins > 0)
            }
        }
    }

    /// Nothing: the evicting process already deleted the row, and a row
    /// present now belongs to a refill by another process.
    func forget(_ hash: ContentHash) throws(CacheError) {}

    func evict(_ s: inout ObjectCacheState, toUsed target: Int64) -> Int {
        ObjectCache.flush(&s)
        do throws(CacheError) {
            return try locked { () throws(CacheError) -> Int in try evictLocked(&s, toUsed: target) }
        } catch {
            s.lastDatabaseError = error
            return 0
        }
    }

    /// Evicts (inside `locked`) and forgets the evicted objects in memory.
    func evictLocked(_ s: inout ObjectCacheState, toUsed target: Int64) throws(CacheError) -> Int {
        let evicted = try evict(toUsed: target)
        for hash in evicted {
            if let e = s.entries.removeValue(forKey: hash) { s.used -= e.size }
        }
        return evicted.count
    }

    /// The limit holds for the sum over all processes of cached bytes and reserved bytes.
    func reserve(_ s: inout ObjectCacheState, _ hash: ContentHash, amount: Int64, limit: Int64) throws(CacheError) {
        let granted = try locked { () throws(CacheError) -> Bool in
            var others = try othersReserved()
            var used = try usedBytes()
            if used + others + s.reserved + amount > limit {
                // Upstream cleans down to the threshold (limit/2) when an insert overflows.
                _ = try evictLocked(&s, toUsed: max(limit / 2 - others - s.reserved - amount, 0))
                used = try usedBytes()
            }
            if used + others + s.reserved + amount > limit, try dropDeadReservations() > 0 {
                others = try othersReserved()
            }
            // Not a throw: a rollback would restore rows of files already unlinked.
            guard used + others + s.reserved + amount <= limit else { return false }
            try setReservation(s.reserved + amount)
            return true
        }
        guard granted else { throw .noSpace(hash: hash, needed: amount, pinned: s.pinned, limit: limit) }
        s.reserved += amount
    }

    func release(_ s: inout ObjectCacheState, reservation amount: Int64) {
        s.reserved -= amount
        let remaining = s.reserved
        do throws(CacheError) { try locked { () throws(CacheError) in try setReservation(remaining) } } catch {
            s.lastDatabaseError = error
        }
    }

    /// Rename and row in one locked transaction, the pin taken before anyone
    /// can evict it. If another process committed the same object first, its
    /// file is kept (it may be pinned there) and our temp file is removed;
    /// either way the temp path is gone on success.
    func commit(_ s: inout ObjectCacheState, _ fill: FinishedFill) throws(CacheError) -> CInt {
        let hash = fill.hash
        let finalPath = directory.objectPath(hash)
        var fd = fill.readFD
        var entry = CacheEntry(size: fill.size, acseq: 0, kind: fill.kind, description: fill.description, pins: 0)
        let remaining = s.reserved - fill.reservation
        let pinned = s.pinned
        do throws(CacheError) {
            try locked { () throws(CacheError) in
                // The producer's LOCK_EX only guards the file while it sits in
                // txn/ (reconcile runs under this same lock); as a cache object
                // it must take pins.
                try? CacheSyscall.flock(fill.tempFD, LOCK_UN)
                if let existing = try row(hash), let theirs = try? CacheSyscall.open(finalPath, O_RDONLY) {
                    entry.size = existing.size
                    fd = theirs
                    try? CacheSyscall.unlink(fill.tempPath)
                } else {
                    do throws(CacheSyscall.Errno) { try directory.moveIntoPlace(fill.tempPath, hash) } catch {
                        throw .io(operation: "rename", path: finalPath, errno: error.rawValue)
                    }
                }
                entry.acseq = try nextSequence()
                let pinnable = fill.pin && pinned + entry.size <= fill.threshold
                if pinnable && holdPin(hash, directoryFD: directoryFD) { entry.pins = 1 }
                try database.insert(CacheDatabase.Row(
                    sha1: hash.description, size: entry.size, acseq: entry.acseq, path: fill.description,
                    type: fill.kind.databaseType, pinned: entry.pins > 0 ? 1 : 0))
                try setReservation(remaining)
            }
        } catch {
            if fd != fill.readFD { CacheSyscall.close(fd) }
            if entry.pins > 0 { releasePin(hash) }
            CacheSyscall.close(fill.readFD)
            throw error
        }
        if fd != fill.readFD { CacheSyscall.close(fill.readFD) }
        s.reserved = remaining
        if let old = s.entries.removeValue(forKey: hash) {
            s.used -= old.size
            if old.pins > 0 {
                // Our earlier pins carry over to the committed object.
                s.pinned -= old.size
                entry.pins += old.pins
            }
        }
        s.nextSequence = max(s.nextSequence, entry.acseq + 1)
        if entry.pins > 0 { s.pinned += entry.size }
        s.entries[hash] = entry
        s.used += entry.size
        if fill.pin && entry.pins == 0 {
            CacheSyscall.close(fd)
            throw .pinLimitExceeded(hash: hash, size: entry.size, pinned: s.pinned, threshold: fill.threshold)
        }
        return fd
    }

    /// The whole shared cache's usage.
    func usedBytes(_ s: borrowing ObjectCacheState) -> Int64 {
        (try? locked { () throws(CacheError) in try usedBytes() }) ?? s.used
    }

    /// `pinned` when any process holds the object.
    func list(_ s: inout ObjectCacheState) -> [CacheListEntry] {
        ObjectCache.flush(&s)
        let rows = (try? locked { () throws(CacheError) in try database.allRows() }) ?? []
        return rows.sorted { $0.acseq < $1.acseq }.compactMap { row in
            guard let hash = ContentHash(printable: row.sha1) else { return nil }
            return CacheListEntry(hash: hash, size: row.size, kind: CacheObjectKind(databaseType: row.type, description: row.path),
                                  pinned: isHeld(hash), description: row.path)
        }
    }

    /// Withdraws this process's reservation row once no fill is running.
    func close(_ s: inout ObjectCacheState) {
        ObjectCache.flush(&s)
        guard s.reserved == 0 else { return }
        do throws(CacheError) { try locked { () throws(CacheError) in try setReservation(0) } } catch {
            s.lastDatabaseError = error
        }
    }
}
