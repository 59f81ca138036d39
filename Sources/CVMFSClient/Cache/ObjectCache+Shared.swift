#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// The shared-cache side of `ObjectCache` (`CVMFS_SHARED_CACHE=yes`): every
/// function here runs with `state`'s lock held and takes `lock_cachedb`
/// through `SharedCacheLedger.locked` (design in `SharedCacheLedger`).
extension ObjectCache {
    // MARK: - Open

    /// Crash recovery of a shared cache at open: the same checks as
    /// `reconcile`, done under `lock_cachedb` so that the processes already
    /// using the directory see one consistent change. Temp files other
    /// processes are writing stay, pins are flocks and need no clearing, and
    /// reservations of dead processes are dropped.
    static func reconcileShared(_ s: inout ObjectCacheState, directory: CacheDirectory, limit: Int64,
                                report: inout CacheReconcileReport) throws(CacheError) {
        let existed = (try? CacheSyscall.stat(directory.databasePath)) != nil
        let shared = try SharedCacheLedger(directory: directory)
        report.databaseRecreated = !existed
        s.shared = shared
        s.database = shared.database
        let db = shared.database
        try shared.locked { () throws(CacheError) in
            removeStaleTemps(directory, onlyUnheld: true, report: &report)
            let rows = try db.allRows()
            var onDisk: [ContentHash: (size: Int64, atime: Int64)] = [:]
            for file in scanObjects(directory) { onDisk[file.hash] = (file.size, file.atime) }
            // Only a crash between rename and commit leaves a file without a row.
            let maxSequence = try merge(rows, onDisk: onDisk, into: &s, database: db, keepPinnedColumn: true, report: &report)
            s.nextSequence = maxSequence + 1
            s.used = s.entries.values.reduce(0) { $0 + $1.size }
            try shared.dropDeadReservations()
            if s.used > limit {
                report.evictedObjects = try evictShared(&s, shared, toUsed: limit / 2)
            }
        }
    }

    // MARK: - Miss

    /// A miss in this process's view: another process may have filled the
    /// object since. A file counts only if it has its `cachedb` row (a fill
    /// renames and inserts in one locked transaction).
    @inline(never)
    func openSharedMiss(_ hash: ContentHash, pin: Bool) throws(CacheError) -> FileDescriptor? {
        let threshold = self.threshold
        let directoryPath = directory.objectPath(hash)
        let fd = try state.withLock { (s) throws(CacheError) -> CInt in
            guard let shared = s.shared else { return -1 }
            if s.entries[hash] == nil {
                guard (try? CacheSyscall.stat(directoryPath)) != nil,
                      let row = try shared.locked({ () throws(CacheError) in try shared.row(hash) }) else { return -1 }
                s.entries[hash] = CacheEntry(size: row.size, acseq: s.nextSequence, kind: row.kind,
                                             description: row.description, pins: 0)
                s.nextSequence += 1
                s.used += row.size
            }
            guard try Self.touch(&s, hash, pin: pin, threshold: threshold) else { return -1 }
            let (fd, _) = openObject(hash)
            if fd < 0 { Self.forget(&s, hash) }
            return fd
        }
        return fd >= 0 ? FileDescriptor(rawValue: fd) : nil
    }

    // MARK: - Quota

    /// `reserve` for a shared cache: the limit holds for the sum over all
    /// processes of cached bytes and reserved bytes.
    static func reserveShared(_ s: inout ObjectCacheState, _ shared: SharedCacheLedger, _ hash: ContentHash,
                              amount: Int64, limit: Int64) throws(CacheError) {
        let granted = try shared.locked { () throws(CacheError) -> Bool in
            var others = try shared.othersReserved()
            var used = try shared.usedBytes()
            if used + others + s.reserved + amount > limit {
                // Upstream cleans down to the threshold (limit/2) when an insert overflows.
                _ = try evictShared(&s, shared, toUsed: max(limit / 2 - others - s.reserved - amount, 0))
                used = try shared.usedBytes()
            }
            if used + others + s.reserved + amount > limit, try shared.dropDeadReservations() > 0 {
                others = try shared.othersReserved()
            }
            // Not a throw: a rollback would restore rows of files already unlinked.
            guard used + others + s.reserved + amount <= limit else { return false }
            try shared.setReservation(s.reserved + amount)
            return true
        }
        guard granted else { throw .noSpace(hash: hash, needed: amount, pinned: s.pinned, limit: limit) }
        s.reserved += amount
    }

    /// Gives back `amount` reserved bytes (a fill that ended either way).
    static func releaseReservation(_ s: inout ObjectCacheState, _ amount: Int64) {
        s.reserved -= amount
        guard let shared = s.shared else { return }
        let remaining = s.reserved
        do throws(CacheError) { try shared.locked { () throws(CacheError) in try shared.setReservation(remaining) } } catch {
            s.lastDatabaseError = error
        }
    }

    /// Evicts (inside `locked`) and forgets the evicted objects in memory.
    static func evictShared(_ s: inout ObjectCacheState, _ shared: SharedCacheLedger, toUsed target: Int64) throws(CacheError) -> Int {
        let evicted = try shared.evict(toUsed: target)
        for hash in evicted {
            if let e = s.entries.removeValue(forKey: hash) { s.used -= e.size }
        }
        return evicted.count
    }

    // MARK: - Fill

    /// Makes a verified temp file visible: rename and row in one locked
    /// transaction, the pin taken before anyone can evict it. If another
    /// process committed the same object first, its file is kept (it may be
    /// pinned there) and our temp file is removed; either way the temp path
    /// is gone on success. Returns the descriptor to hand out.
    static func commitShared(
        _ s: inout ObjectCacheState, _ shared: SharedCacheLedger, hash: ContentHash, tempPath: String, tempFD: CInt, readFD: CInt,
        size: Int64, kind: CacheObjectKind, description: String, pin: Bool, reservation: Int64, threshold: Int64
    ) throws(CacheError) -> CInt {
        let finalPath = shared.directory.objectPath(hash)
        var fd = readFD
        var entry = CacheEntry(size: size, acseq: 0, kind: kind, description: description, pins: 0)
        let remaining = s.reserved - reservation
        let pinned = s.pinned
        do throws(CacheError) {
            try shared.locked { () throws(CacheError) in
                // The producer's LOCK_EX only guards the file while it sits in
                // txn/ (reconcile runs under this same lock); as a cache object
                // it must take pins.
                try? CacheSyscall.flock(tempFD, LOCK_UN)
                if let existing = try shared.row(hash), let theirs = try? CacheSyscall.open(finalPath, O_RDONLY) {
                    entry.size = existing.size
                    fd = theirs
                    try? CacheSyscall.unlink(tempPath)
                } else {
                    do throws(CacheSyscall.Errno) { try shared.directory.moveIntoPlace(tempPath, hash) } catch {
                        throw .io(operation: "rename", path: finalPath, errno: error.rawValue)
                    }
                }
                entry.acseq = try shared.nextSequence()
                let pinnable = pin && pinned + entry.size <= threshold
                if pinnable && shared.holdPin(hash, directoryFD: shared.directoryFD) { entry.pins = 1 }
                try shared.database.insert(CacheDatabase.Row(
                    sha1: hash.description, size: entry.size, acseq: entry.acseq, path: description,
                    type: kind.databaseType, pinned: entry.pins > 0 ? 1 : 0))
                try shared.setReservation(remaining)
            }
        } catch {
            if fd != readFD { CacheSyscall.close(fd) }
            if entry.pins > 0 { shared.releasePin(hash) }
            throw error
        }
        if fd != readFD { CacheSyscall.close(readFD) }
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
        if pin && entry.pins == 0 {
            CacheSyscall.close(fd)
            throw .pinLimitExceeded(hash: hash, size: entry.size, pinned: s.pinned, threshold: threshold)
        }
        return fd
    }

    // MARK: - Inspection

    /// Writes batched touches: each becomes the newest in the shared order.
    static func flushShared(_ s: inout ObjectCacheState, _ shared: SharedCacheLedger) {
        var seen = Set<ContentHash>()
        let entries = s.entries
        let dirty = s.dirty
        do throws(CacheError) {
            try shared.locked { () throws(CacheError) in
                for hash in dirty where seen.insert(hash).inserted {
                    guard let e = entries[hash] else { continue }
                    try shared.touch(hash, pinned: e.pins > 0)
                }
            }
        } catch {
            s.lastDatabaseError = error
        }
    }

    /// Every object of the shared cache, least recently used first; `pinned`
    /// when any process holds it.
    static func listShared(_ s: inout ObjectCacheState, _ shared: SharedCacheLedger) -> [CacheListEntry] {
        flush(&s)
        let rows = (try? shared.locked { () throws(CacheError) in try shared.database.allRows() }) ?? []
        return rows.sorted { $0.acseq < $1.acseq }.compactMap { row in
            guard let hash = ContentHash(printable: row.sha1) else { return nil }
            return CacheListEntry(hash: hash, size: row.size, kind: CacheObjectKind(databaseType: row.type, description: row.path),
                                  pinned: shared.isHeld(hash), description: row.path)
        }
    }
}
