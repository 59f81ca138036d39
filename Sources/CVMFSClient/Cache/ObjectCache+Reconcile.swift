#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import CVMFSFormat

extension ObjectCache {
    /// Crash recovery at open (docs/format/client-behaviour.md §10.1): deletes leftover
    /// downloads in `txn/`, opens `cachedb` (recreating it if unreadable),
    /// adds files that have no row (in access-time order), drops rows whose
    /// file is gone, fixes sizes, clears all pins, and evicts if over the limit.
    static func reconcile(_ s: inout ObjectCacheState, directory: CacheDirectory, limit: Int64, shared: Bool = false,
                          report: inout CacheReconcileReport) throws(CacheError) {
        removeStaleTemps(directory, onlyUnheld: shared, report: &report)
        guard limit >= 0 else { return }

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

        // After a clean shutdown of a private cache the database is exact;
        // only a crash (or a missing database) needs the scan of every file,
        // which takes seconds on a large cache (upstream's crash guard).
        let crashed = (try? CacheSyscall.stat(directory.crashGuardPath)) != nil
        var onDisk: [ContentHash: (size: Int64, atime: Int64)] = [:]
        if !shared && existed && !crashed && !report.databaseRecreated {
            for row in rows {
                if let hash = ContentHash(printable: row.sha1) { onDisk[hash] = (row.size, 0) }
            }
        } else {
            for file in scanObjects(directory) { onDisk[file.hash] = (file.size, file.atime) }
        }

        var maxSequence: Int64 = 0
        try db.transaction { () throws(CacheError) in
            maxSequence = try merge(rows, onDisk: onDisk, into: &s, database: db, keepPinnedColumn: false, report: &report)
            // All pins are cleared when the database is opened (§10.1).
            try db.execute("UPDATE cache_catalog SET pinned = 0 WHERE pinned != 0")
        }
        s.database = db
        s.nextSequence = maxSequence + 1
        s.used = s.entries.values.reduce(0) { $0 + $1.size }
        if s.used > limit {
            report.evictedObjects = evict(&s, directory: directory, toUsed: limit / 2)
        }
    }

    /// Deletes leftover downloads in `txn/`. With `onlyUnheld` (a shared
    /// cache), a file whose producer, in this or another process, still holds
    /// its `flock` is in use and stays.
    static func removeStaleTemps(_ directory: CacheDirectory, onlyUnheld: Bool, report: inout CacheReconcileReport) {
        guard let names = try? CacheSyscall.listDirectory(directory.txnPath) else { return }
        for name in names {
            let path = directory.txnPath + "/" + name
            if onlyUnheld {
                guard let fd = try? CacheSyscall.open(path, O_RDONLY) else { continue }
                defer { CacheSyscall.close(fd) }
                guard (try? CacheSyscall.flock(fd, LOCK_EX | LOCK_NB)) != nil else { continue }
            }
            if (try? CacheSyscall.unlink(path)) != nil { report.removedTempFiles += 1 }
        }
    }

    /// Makes `cachedb` agree with the files on disk: rows without a file are
    /// dropped, sizes fixed, files without a row added after every known
    /// entry (oldest access first). Fills `s.entries`; returns the highest
    /// access sequence. Runs inside the caller's transaction.
    static func merge(_ rows: [CacheDatabase.Row], onDisk: [ContentHash: (size: Int64, atime: Int64)],
                      into s: inout ObjectCacheState, database db: CacheDatabase, keepPinnedColumn: Bool,
                      report: inout CacheReconcileReport) throws(CacheError) -> Int64 {
        var maxSequence: Int64 = 0
        for row in rows {
            guard let hash = ContentHash(printable: row.sha1), let file = onDisk[hash], s.entries[hash] == nil else {
                try db.delete(sha1: row.sha1)
                report.droppedRows += 1
                continue
            }
            if file.size != row.size {
                report.resizedRows += 1
                try db.insert(CacheDatabase.Row(sha1: row.sha1, size: file.size, acseq: row.acseq, path: row.path,
                                                type: row.type, pinned: keepPinnedColumn ? row.pinned : 0))
            }
            s.entries[hash] = CacheEntry(size: file.size, acseq: row.acseq,
                                         kind: CacheObjectKind(databaseType: row.type, description: row.path),
                                         description: row.path, pins: 0)
            maxSequence = max(maxSequence, row.acseq)
        }
        let missing = onDisk.filter { s.entries[$0.key] == nil }.sorted { $0.value.atime < $1.value.atime }
        for (hash, file) in missing {
            maxSequence += 1
            let description = CacheObjectKind.regular.defaultDescription
            try db.insert(CacheDatabase.Row(sha1: hash.description, size: file.size, acseq: maxSequence,
                                            path: description, type: 0, pinned: 0))
            s.entries[hash] = CacheEntry(size: file.size, acseq: maxSequence, kind: .regular,
                                         description: description, pins: 0)
            report.addedFiles += 1
        }
        return maxSequence
    }
}
