#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// The bookkeeping of a cache directory that several client processes use at
/// once (`CVMFS_SHARED_CACHE=yes`, directory `<CVMFS_CACHE_BASE>/shared`).
///
/// Upstream runs one cache-manager process for this (docs/format/client-behaviour.md
/// §10.2). This client needs none:
///
/// * **`cachedb` is the source of truth.** It is opened in normal locking
///   mode with a write-ahead log, and every mutation (insert, evict, touch,
///   reservation) runs in one short `BEGIN IMMEDIATE` transaction while the
///   process holds `flock(LOCK_EX)` on `lock_cachedb` in the cache directory.
///   The quota is `SUM(size)` of its rows plus the `reservation` rows of all
///   live processes (one row per open cache, with its pid: the bytes its fills in
///   progress were promised), so every process enforces the same limit.
/// * **Pins are flocks on the object itself.** Pinning takes
///   `flock(LOCK_SH)` on a descriptor this ledger keeps open until the last
///   unpin. Eviction (in any process) unlinks a file only after
///   `flock(LOCK_EX | LOCK_NB)` on it succeeds, so an object that another
///   process has open as a file or a loaded catalog is never deleted. The
///   kernel drops the flocks of a killed process, so there are no stale pins
///   to clear; stale `reservation` rows (pid no longer alive) are dropped at
///   open and whenever space runs out.
/// * **A fill becomes visible atomically.** The rename from `txn/` and the
///   insert of its row happen in the same locked transaction, so a reconcile
///   (which also runs under the lock) never sees a file without its row,
///   except after a crash, when the file is adopted. Temp files in `txn/`
///   are held with `flock(LOCK_EX)` by their producer; a reconcile removes
///   only those nobody holds.
///
/// The cache-hit path does not come here: `ObjectCache` keeps its in-memory
/// entries, and only a miss, the first pin of an object, a fill, an eviction
/// or a batched flush of touches takes `lock_cachedb`.
///
/// Not thread-safe: used only while holding `ObjectCache.state`'s `Mutex`
/// (a flock on one open file description does not exclude other threads of
/// the same process, so the `Mutex` is what serializes them).
final class SharedCacheLedger {
    let directory: CacheDirectory
    let database: CacheDatabase
    /// `lock_cachedb`, opened once; flocked for each transaction.
    let lockFD: CInt
    /// The cache directory, for `openat` of objects (owned by the ledger).
    let directoryFD: CInt
    /// This ledger's key in the `reservation` table: random, so that two
    /// caches opened by one process (tests) keep separate rows.
    let owner = Int64.random(in: 1...Int64.max)
    /// Descriptors holding `LOCK_SH` on pinned objects, one per pinned hash.
    private(set) var pinHolders: [ContentHash: CInt] = [:]
    private let sumSizeStatement: SQLiteStatement
    private let sumReservedStatement: SQLiteStatement
    private let setReservationStatement: SQLiteStatement
    private let deleteReservationStatement: SQLiteStatement
    private let reservationPidsStatement: SQLiteStatement
    private let lruStatement: SQLiteStatement
    private let touchStatement: SQLiteStatement
    private let rowStatement: SQLiteStatement
    private let nextSequenceStatement: SQLiteStatement

    init(directory: CacheDirectory) throws(CacheError) {
        self.directory = directory
        let lockPath = directory.path + "/lock_cachedb"
        let lock: CInt
        do { lock = try CacheSyscall.open(lockPath, O_RDWR | O_CREAT, 0o600) } catch {
            throw .io(operation: "open", path: lockPath, errno: error.rawValue)
        }
        let db: CacheDatabase
        do {
            // Even opening (which may create the schema) happens under the lock.
            try CacheSyscall.flock(lock, LOCK_EX)
            defer { try? CacheSyscall.flock(lock, LOCK_UN) }
            db = try CacheDatabase(path: directory.databasePath, shared: true)
            try db.execute("CREATE TABLE IF NOT EXISTS reservation (owner INTEGER PRIMARY KEY, pid INTEGER, bytes INTEGER)")
        } catch let error as CacheError {
            CacheSyscall.close(lock)
            throw error
        } catch let error as CacheSyscall.Errno {
            CacheSyscall.close(lock)
            throw .io(operation: "flock", path: lockPath, errno: error.rawValue)
        } catch {
            CacheSyscall.close(lock)
            throw .io(operation: "open", path: lockPath, errno: EIO)
        }
        lockFD = lock
        database = db
        do { directoryFD = try CacheSyscall.open(directory.path, O_RDONLY | O_DIRECTORY) } catch {
            CacheSyscall.close(lockFD)
            throw .io(operation: "open", path: directory.path, errno: error.rawValue)
        }
        do {
            sumSizeStatement = try db.prepare("SELECT IFNULL(SUM(size), 0) FROM cache_catalog")
            sumReservedStatement = try db.prepare("SELECT IFNULL(SUM(bytes), 0) FROM reservation WHERE owner != ?")
            setReservationStatement = try db.prepare("INSERT OR REPLACE INTO reservation (owner, pid, bytes) VALUES (?, ?, ?)")
            deleteReservationStatement = try db.prepare("DELETE FROM reservation WHERE owner = ?")
            reservationPidsStatement = try db.prepare("SELECT owner, pid FROM reservation")
            lruStatement = try db.prepare("SELECT sha1, size FROM cache_catalog ORDER BY acseq")
            touchStatement = try db.prepare("UPDATE cache_catalog SET acseq = (SELECT IFNULL(MAX(acseq), 0) + 1 FROM cache_catalog), pinned = ? WHERE sha1 = ?")
            rowStatement = try db.prepare("SELECT size, type, path FROM cache_catalog WHERE sha1 = ?")
            nextSequenceStatement = try db.prepare("SELECT IFNULL(MAX(acseq), 0) + 1 FROM cache_catalog")
        } catch {
            CacheSyscall.close(directoryFD)
            CacheSyscall.close(lockFD)
            throw error
        }
    }

    deinit {
        for fd in pinHolders.values { CacheSyscall.close(fd) }
        CacheSyscall.close(directoryFD)
        CacheSyscall.close(lockFD)
    }

    // MARK: - Transactions

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction while holding
    /// `flock(LOCK_EX)` on `lock_cachedb`. A process killed inside leaves
    /// neither lock behind: the kernel drops the flock and SQLite rolls the
    /// unfinished transaction back at the next open.
    func locked<T>(_ body: () throws(CacheError) -> T) throws(CacheError) -> T {
        do { try CacheSyscall.flock(lockFD, LOCK_EX) } catch {
            throw .io(operation: "flock", path: directory.path + "/lock_cachedb", errno: error.rawValue)
        }
        defer { try? CacheSyscall.flock(lockFD, LOCK_UN) }
        try database.execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try database.execute("COMMIT")
            return result
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: - Queries (inside `locked`)

    /// Bytes of all cached objects.
    func usedBytes() throws(CacheError) -> Int64 {
        try scalar(sumSizeStatement, [])
    }

    /// Bytes reserved by the fills in progress of other processes.
    func othersReserved() throws(CacheError) -> Int64 {
        try scalar(sumReservedStatement, [.int(owner)])
    }

    /// Records this cache's total reservation (one row, with the pid that
    /// lets others drop it after a crash; 0 deletes it).
    func setReservation(_ bytes: Int64) throws(CacheError) {
        if bytes > 0 {
            try CacheDatabase.mapping { () throws(SQLiteError) in
                try setReservationStatement.run([.int(owner), .int(Int64(getpid())), .int(bytes)])
            }
        } else {
            try CacheDatabase.mapping { () throws(SQLiteError) in try deleteReservationStatement.run([.int(owner)]) }
        }
    }

    /// Drops the reservations of processes that no longer exist (killed while
    /// filling). Returns how many were dropped.
    @discardableResult
    func dropDeadReservations() throws(CacheError) -> Int {
        try CacheDatabase.mapping { () throws(SQLiteError) in
            var dead: [Int64] = []
            reservationPidsStatement.reset()
            while try reservationPidsStatement.step() {
                let pid = reservationPidsStatement.int64(at: 1)
                if !CacheSyscall.processExists(pid) { dead.append(reservationPidsStatement.int64(at: 0)) }
            }
            reservationPidsStatement.reset()
            for owner in dead { try deleteReservationStatement.run([.int(owner)]) }
            return dead.count
        }
    }

    /// The row of `hash`, if any: (size, kind, description).
    func row(_ hash: ContentHash) throws(CacheError) -> (size: Int64, kind: CacheObjectKind, description: String)? {
        try CacheDatabase.mapping { () throws(SQLiteError) in
            rowStatement.bind([.text(hash.description)])
            defer { rowStatement.reset() }
            guard try rowStatement.step() else { return nil }
            let path = rowStatement.string(at: 2) ?? ""
            return (rowStatement.int64(at: 0), CacheObjectKind(databaseType: rowStatement.int64(at: 1), description: path), path)
        }
    }

    /// The next access sequence number, shared by all processes.
    func nextSequence() throws(CacheError) -> Int64 {
        try scalar(nextSequenceStatement, [])
    }

    /// Marks `hash` as the most recently used object.
    func touch(_ hash: ContentHash, pinned: Bool) throws(CacheError) {
        try CacheDatabase.mapping { () throws(SQLiteError) in try touchStatement.run([.int(pinned ? 1 : 0), .text(hash.description)]) }
    }

    private func scalar(_ statement: SQLiteStatement, _ values: [SQLiteValue]) throws(CacheError) -> Int64 {
        try CacheDatabase.mapping { () throws(SQLiteError) in try statement.scalar(values) }
    }

    // MARK: - Eviction (inside `locked`)

    /// Evicts least recently used objects that no process holds, until at most
    /// `target` bytes are used. Returns the evicted hashes.
    func evict(toUsed target: Int64) throws(CacheError) -> [ContentHash] {
        var used = try usedBytes()
        guard used > target else { return [] }
        // Read the LRU order first: rows are deleted below, and a statement
        // should not step over a table the same connection is changing.
        let candidates = try CacheDatabase.mapping { () throws(SQLiteError) in
            var candidates: [(sha1: String, size: Int64)] = []
            lruStatement.reset()
            defer { lruStatement.reset() }
            while try lruStatement.step() { candidates.append((lruStatement.string(at: 0) ?? "", lruStatement.int64(at: 1))) }
            return candidates
        }
        var evicted: [ContentHash] = []
        var offset = 0
        while used > target, offset < candidates.count {
            let (sha1, size) = candidates[offset]
            offset += 1
            guard let hash = ContentHash(printable: sha1) else {
                try database.delete(sha1: sha1)
                used -= size
                continue
            }
            switch tryRemove(hash) {
            case .removed, .missing:
                try database.delete(sha1: sha1)
                used -= size
                evicted.append(hash)
            case .held:
                continue
            }
        }
        return evicted
    }

    enum RemoveOutcome { case removed, missing, held }

    /// Unlinks the object if no process holds a pin (`LOCK_SH`) on it.
    func tryRemove(_ hash: ContentHash) -> RemoveOutcome {
        let path = directory.objectPath(hash)
        let fd: CInt
        do { fd = try CacheSyscall.open(path, O_RDONLY) } catch {
            return error == .noSuchFile ? .missing : .held
        }
        defer { CacheSyscall.close(fd) }
        do { try CacheSyscall.flock(fd, LOCK_EX | LOCK_NB) } catch { return .held }
        try? CacheSyscall.unlink(path)
        return .removed
    }

    /// True if some process (this one included) pins the object.
    func isHeld(_ hash: ContentHash) -> Bool {
        if pinHolders[hash] != nil { return true }
        guard let fd = try? CacheSyscall.open(directory.objectPath(hash), O_RDONLY) else { return false }
        defer { CacheSyscall.close(fd) }
        return (try? CacheSyscall.flock(fd, LOCK_EX | LOCK_NB)) == nil
    }

    // MARK: - Pins

    /// Takes `LOCK_SH` on the object for this process's first pin. False if
    /// the object is gone or being evicted right now (then it is a miss).
    func holdPin(_ hash: ContentHash, directoryFD: CInt) -> Bool {
        if pinHolders[hash] != nil { return true }
        let fd = withUnsafeTemporaryAllocation(of: CChar.self, capacity: CacheDirectory.relativePathCapacity) { buffer -> CInt in
            CacheDirectory.writeRelativePath(hash, into: buffer.baseAddress!)
            return (try? CacheSyscall.openat(directoryFD, buffer.baseAddress!, O_RDONLY)) ?? -1
        }
        guard fd >= 0 else { return false }
        // An evictor holds LOCK_EX only between its check and the unlink;
        // losing that race, or finding the file already unlinked, is a miss.
        guard (try? CacheSyscall.flock(fd, LOCK_SH | LOCK_NB)) != nil,
              let info = try? CacheSyscall.fstat(fd), info.links > 0 else {
            CacheSyscall.close(fd)
            return false
        }
        pinHolders[hash] = fd
        return true
    }

    /// Drops this process's hold on the object (after its last unpin).
    /// Unlocks before closing: a child forked meanwhile (between its fork and
    /// exec) shares the open file description, and a plain close would leave
    /// the lock, and the pin, alive as long as it does.
    func releasePin(_ hash: ContentHash) {
        guard let fd = pinHolders.removeValue(forKey: hash) else { return }
        try? CacheSyscall.flock(fd, LOCK_UN)
        CacheSyscall.close(fd)
    }
}
