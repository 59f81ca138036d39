import CSQLite
import CVMFSFormat

/// The `cachedb` LRU database of a managed cache, with upstream's schema
/// (docs/format/client-behaviour.md §10.1, `PosixQuotaManager::InitDatabase`).
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
    private let connection: SQLiteDatabase
    private let insertStatement: SQLiteStatement
    private let deleteStatement: SQLiteStatement
    private let touchStatement: SQLiteStatement

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
        do throws(SQLiteError) {
            connection = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            // auto_vacuum must be set before the first table is created.
            if shared {
                // WAL survives a killed writer (the next opener rolls the log back);
                // synchronous=NORMAL is the documented safe setting with WAL.
                connection.setBusyTimeout(milliseconds: 10_000)
                try connection.execute("PRAGMA auto_vacuum=1; PRAGMA journal_mode=WAL; PRAGMA synchronous=1;")
            } else {
                try connection.execute("PRAGMA synchronous=0; PRAGMA locking_mode=EXCLUSIVE; PRAGMA auto_vacuum=1;")
            }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS cache_catalog (sha1 TEXT PRIMARY KEY, size INTEGER, acseq INTEGER, \
                path TEXT, type INTEGER, pinned INTEGER);
                CREATE UNIQUE INDEX IF NOT EXISTS idx_cache_catalog_acseq ON cache_catalog (acseq);
                CREATE TABLE IF NOT EXISTS properties (key TEXT PRIMARY KEY, value TEXT);
                INSERT OR IGNORE INTO properties (key, value) VALUES ('schema', '1.0');
                """)
            let schema = try connection.prepare("SELECT value FROM properties WHERE key='schema'")
            guard try schema.step(), schema.string(at: 0) == "1.0" else {
                throw SQLiteError(extendedCode: SQLITE_MISMATCH, message: "unsupported cachedb schema",
                                  sql: schema.sql, databasePath: path)
            }
            insertStatement = try connection.prepare(
                "INSERT OR REPLACE INTO cache_catalog (sha1, size, acseq, path, type, pinned) VALUES (?, ?, ?, ?, ?, ?)")
            deleteStatement = try connection.prepare("DELETE FROM cache_catalog WHERE sha1 = ?")
            touchStatement = try connection.prepare("UPDATE cache_catalog SET acseq = ?, pinned = ? WHERE sha1 = ?")
        } catch {
            throw .database(error)
        }
    }

    /// Compiles a statement on this connection (for `SharedCacheLedger`'s queries).
    func prepare(_ sql: String) throws(CacheError) -> SQLiteStatement {
        try Self.mapping { () throws(SQLiteError) in try connection.prepare(sql) }
    }

    func execute(_ sql: String) throws(CacheError) {
        try Self.mapping { () throws(SQLiteError) in try connection.execute(sql) }
    }

    /// Runs SQLite calls, reporting a failure as the cache's own error.
    static func mapping<T>(_ body: () throws(SQLiteError) -> T) throws(CacheError) -> T {
        do { return try body() } catch { throw .database(error) }
    }

    /// The largest object size and access sequence a row may hold: far beyond any real cache,
    /// and small enough that the sums and `+ 1`s of the quota bookkeeping cannot overflow.
    static let maximumSize: Int64 = 1 << 40
    static let maximumSequence: Int64 = 1 << 62

    /// All rows (used once, at open). A row with a negative or impossibly large size or
    /// access sequence means the file is corrupt (`SQLITE_CORRUPT`): a private cache then
    /// rebuilds `cachedb` from the files, instead of overflowing its quota arithmetic.
    func allRows() throws(CacheError) -> [Row] {
        let select = try prepare("SELECT sha1, size, acseq, path, type, pinned FROM cache_catalog")
        return try Self.mapping { () throws(SQLiteError) in
            var rows: [Row] = []
            while try select.step() {
                let row = Row(sha1: select.string(at: 0) ?? "", size: select.int64(at: 1), acseq: select.int64(at: 2),
                              path: select.string(at: 3) ?? "", type: select.int64(at: 4), pinned: select.int64(at: 5))
                for (what, value, maximum) in [("size", row.size, Self.maximumSize), ("access sequence", row.acseq, Self.maximumSequence)]
                where value < 0 || value > maximum {
                    throw SQLiteError(extendedCode: SQLITE_CORRUPT,
                                      message: "row '\(row.sha1)' has \(what) \(value), outside 0...\(maximum)",
                                      sql: select.sql, databasePath: path)
                }
                rows.append(row)
            }
            return rows
        }
    }

    func insert(_ row: Row) throws(CacheError) {
        try Self.mapping { () throws(SQLiteError) in
            try insertStatement.run([.text(row.sha1), .int(row.size), .int(row.acseq), .text(row.path), .int(row.type), .int(row.pinned)])
        }
    }

    func delete(sha1: String) throws(CacheError) {
        try Self.mapping { () throws(SQLiteError) in try deleteStatement.run([.text(sha1)]) }
    }

    func touch(sha1: String, acseq: Int64, pinned: Int64) throws(CacheError) {
        try Self.mapping { () throws(SQLiteError) in try touchStatement.run([.int(acseq), .int(pinned), .text(sha1)]) }
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
