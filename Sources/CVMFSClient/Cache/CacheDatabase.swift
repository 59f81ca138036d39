import CSQLite

/// The `cachedb` LRU database of a managed cache, with upstream's schema
/// (client-behaviour.md §10.1, `PosixQuotaManager::InitDatabase`).
///
/// Not thread-safe. The connection is opened in SQLite's multi-thread mode
/// (`SQLITE_OPEN_NOMUTEX`): "a single database connection [must not be] used
/// simultaneously in two or more threads" (sqlite.org/threadsafe.html), which
/// `ObjectCache` guarantees by touching it only while holding its `Mutex`.
final class CacheDatabase {
    /// One row of `cache_catalog`.
    struct Row {
        var sha1: String
        var size: Int64
        var acseq: Int64
        var path: String
        var type: Int64
        var pinned: Int64
    }

    let path: String
    let handle: OpaquePointer
    private var insertStatement: CacheStatement!
    private var deleteStatement: CacheStatement!
    private var touchStatement: CacheStatement!

    /// Opens (creating if needed) the database. Throws if the file is not a
    /// usable `cachedb`; the caller then deletes it and tries again.
    ///
    /// A private cache uses upstream's pragmas (`locking_mode=EXCLUSIVE`, so
    /// a second process fails at open). A `shared` cache is opened in normal
    /// locking mode with a write-ahead log, so that several processes can use
    /// it; they serialize their transactions with `SharedCacheLedger`'s
    /// `lock_cachedb` flock, and the busy timeout only covers a reader
    /// that is not one of ours.
    init(path: String, shared: Bool = false) throws(CacheError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw .database(path: path, sql: "open", code: rc, message: message)
        }
        handle = db
        // auto_vacuum must be set before the first table is created.
        if shared {
            // WAL survives a killed writer (the next opener rolls the log back);
            // synchronous=NORMAL is the documented safe setting with WAL.
            sqlite3_busy_timeout(db, 10_000)
            try execute("PRAGMA auto_vacuum=1; PRAGMA journal_mode=WAL; PRAGMA synchronous=1;")
        } else {
            try execute("PRAGMA synchronous=0; PRAGMA locking_mode=EXCLUSIVE; PRAGMA auto_vacuum=1;")
        }
        try execute("""
            CREATE TABLE IF NOT EXISTS cache_catalog (sha1 TEXT PRIMARY KEY, size INTEGER, acseq INTEGER, \
            path TEXT, type INTEGER, pinned INTEGER);
            CREATE UNIQUE INDEX IF NOT EXISTS idx_cache_catalog_acseq ON cache_catalog (acseq);
            CREATE TABLE IF NOT EXISTS properties (key TEXT PRIMARY KEY, value TEXT);
            INSERT OR IGNORE INTO properties (key, value) VALUES ('schema', '1.0');
            """)
        let schema = try CacheStatement("SELECT value FROM properties WHERE key='schema'", in: self)
        schema.bind([])
        guard try schema.step(), schema.text(0) == "1.0" else {
            throw .database(path: path, sql: schema.sql, code: SQLITE_MISMATCH, message: "unsupported cachedb schema")
        }
        insertStatement = try CacheStatement(
            "INSERT OR REPLACE INTO cache_catalog (sha1, size, acseq, path, type, pinned) VALUES (?, ?, ?, ?, ?, ?)", in: self)
        deleteStatement = try CacheStatement("DELETE FROM cache_catalog WHERE sha1 = ?", in: self)
        touchStatement = try CacheStatement("UPDATE cache_catalog SET acseq = ?, pinned = ? WHERE sha1 = ?", in: self)
    }

    deinit {
        insertStatement = nil
        deleteStatement = nil
        touchStatement = nil
        sqlite3_close(handle)
    }

    func error(_ rc: Int32, sql: String) -> CacheError {
        .database(path: path, sql: sql, code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    func execute(_ sql: String) throws(CacheError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(message)
            throw .database(path: path, sql: sql, code: rc, message: text)
        }
    }

    /// All rows (used once, at open).
    func allRows() throws(CacheError) -> [Row] {
        let select = try CacheStatement("SELECT sha1, size, acseq, path, type, pinned FROM cache_catalog", in: self)
        select.bind([])
        var rows: [Row] = []
        while try select.step() {
            rows.append(Row(sha1: select.text(0), size: select.int(1), acseq: select.int(2),
                            path: select.text(3), type: select.int(4), pinned: select.int(5)))
        }
        return rows
    }

    func insert(_ row: Row) throws(CacheError) {
        try insertStatement.run([.text(row.sha1), .int(row.size), .int(row.acseq), .text(row.path), .int(row.type), .int(row.pinned)])
    }

    func delete(sha1: String) throws(CacheError) {
        try deleteStatement.run([.text(sha1)])
    }

    func touch(sha1: String, acseq: Int64, pinned: Int64) throws(CacheError) {
        try touchStatement.run([.int(acseq), .int(pinned), .text(sha1)])
    }

    /// Runs `body` in one transaction (bulk updates are one fsync-free commit).
    func transaction(_ body: () throws(CacheError) -> Void) throws(CacheError) {
        try execute("BEGIN")
        do {
            try body()
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
