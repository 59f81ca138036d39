#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// The parts of crash recovery at open that both ledgers share
/// (`PrivateCacheLedger.open`, `SharedCacheLedger.open`).
extension ObjectCache {
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
