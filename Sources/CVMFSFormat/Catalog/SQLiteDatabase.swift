import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection; the only place that opens, closes and executes on a
/// connection, so that every SQLite return code is checked in one place.
///
/// Not thread-safe by itself: read-only connections are opened with
/// `SQLITE_OPEN_NOMUTEX` (SQLite's multi-thread mode), so whoever owns the
/// connection must serialize access to it and to its statements. ``Catalog``
/// does so with a `Mutex`; ``CatalogWriter`` is single-owner.
public final class SQLiteDatabase {
    /// How to open the file.
    public enum Mode: Sendable {
        /// `SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX` on the `unix-none` VFS
        /// (no file locks), with `PRAGMA temp_store=2` and
        /// `PRAGMA locking_mode=EXCLUSIVE` like upstream's client (docs/format/catalogs.md
        /// §13): no temporary file is ever written next to the cache, and a
        /// query does not lock, unlock and re-read the file header each time
        /// (without this every lookup cost three system calls and the page
        /// cache was thrown away between queries). Not memory-mapped: lookups
        /// were as fast with `pread` (139.7 k/s against 137.5 k/s on a 1 M-entry
        /// catalog), and a map left every page a walk touched in the client's
        /// RSS (16 MiB for 100k entries). Only for files nobody writes while
        /// they are open: published catalogs are immutable.
        case readOnly
        /// `SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX`.
        case readWriteCreate
    }

    let handle: OpaquePointer
    /// The file this connection reads or writes.
    public let path: String

    /// Opens `path`. A read-only open also reads the schema once, because
    /// `sqlite3_open_v2` accepts any file and only the first read notices that
    /// it is not a database (`SQLITE_NOTADB`); failing here gives a clear error
    /// at open time instead of at the first lookup.
    public init(path: String, mode: Mode) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readOnly: flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        case .readWriteCreate: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        }
        let rc = sqlite3_open_v2(path, &db, flags, mode == .readOnly ? "unix-none" : nil)
        guard rc == SQLITE_OK, let db else {
            // Even a failed open may allocate a handle that must be closed (sqlite3_open doc).
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(extendedCode: rc, message: message, sql: nil, databasePath: path)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        if mode == .readOnly {
            try execute("PRAGMA temp_store=2; PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-\(Self.pageCacheKilobytes(forFileAt: path))")
            try execute("SELECT count(*) FROM sqlite_master")
        }
    }

    /// SQLite's page cache of a read-only connection: 1/32 of the file,
    /// between 256 KiB and SQLite's default of 2 MiB. A 1 M-entry catalog
    /// (154 MB) needs the 2 MiB for its interior B-tree pages (94 k lookups/s
    /// with 512 KiB, 140 k/s with 2 MiB), while the many small nested
    /// catalogs of a big repository would each hold 2 MiB for nothing.
    static func pageCacheKilobytes(forFileAt path: String) -> Int {
        var info = stat()
        let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
        return min(2000, max(256, size / 32 / 1024))
    }

    deinit {
        // Statements keep a strong reference to their database, so none is left
        // un-finalized here and close_v2 releases everything at once.
        sqlite3_close_v2(handle)
    }

    /// How long a statement waits for another process's lock before it fails
    /// with `SQLITE_BUSY` (a database shared between processes).
    public func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Runs one or more statements that return no rows of interest.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw SQLiteError(extendedCode: sqlite3_extended_errcode(handle), message: message, sql: sql, databasePath: path)
        }
    }

    /// Whether no transaction is open (`sqlite3_get_autocommit`).
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    /// The bytes of the main database as this connection sees it, uncommitted changes of its
    /// open transaction included (`sqlite3_serialize`, which reads every page through the
    /// pager), or `nil` when SQLite cannot make the copy.
    public func serialized() -> [UInt8]? {
        var size: sqlite3_int64 = 0
        guard let bytes = sqlite3_serialize(handle, "main", &size, 0) else { return nil }
        defer { sqlite3_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(size)))
    }

    /// Compiles `sql` once, marked persistent because our statements live as long as the catalog.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw lastError(sql: sql)
        }
        return SQLiteStatement(database: self, handle: stmt, sql: sql)
    }

    /// The connection's current error, attributed to `sql`.
    @inline(never)
    func lastError(sql: String?) -> SQLiteError {
        SQLiteError(
            extendedCode: sqlite3_extended_errcode(handle),
            message: String(cString: sqlite3_errmsg(handle)),
            sql: sql, databasePath: path)
    }

    /// Whether a table of that name exists.
    public func tableExists(_ name: String) throws(SQLiteError) -> Bool {
        let stmt = try prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?")
        stmt.bind(text: name, at: 1)
        return try stmt.step()
    }

    /// The column names of a table, in table order (`PRAGMA table_info`).
    public func columnNames(of table: String) throws(SQLiteError) -> [String] {
        let stmt = try prepare("SELECT name FROM pragma_table_info(?)")
        stmt.bind(text: table, at: 1)
        var names: [String] = []
        while try stmt.step() {
            if let name = stmt.string(at: 0) { names.append(name) }
        }
        return names
    }
}
