import CSQLite

/// One prepared statement of the `cachedb`, finalized in `deinit`
/// (GRDB habit: reset → clear → bind → step). Not thread-safe: used only by
/// `CacheDatabase`, which `ObjectCache` guards with its `Mutex`.
final class CacheStatement {
    let sql: String
    private let handle: OpaquePointer
    private unowned let database: CacheDatabase

    init(_ sql: String, in database: CacheDatabase) throws(CacheError) {
        self.sql = sql
        self.database = database
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw database.error(rc, sql: sql) }
        handle = stmt
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `values` (Int64 or String) by position.
    func bind(_ values: [CacheSQLValue]) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (i, value) in values.enumerated() {
            let rc: Int32
            switch value {
            case .int(let v): rc = sqlite3_bind_int64(handle, Int32(i + 1), v)
            case .text(let s): rc = cvmfs_sqlite_bind_text_transient(handle, Int32(i + 1), s, -1)
            }
            // A failed bind can only be a programming error (wrong index or type).
            precondition(rc == SQLITE_OK, "cachedb: bind \(i + 1) failed in \(sql)")
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [CacheSQLValue] = []) throws(CacheError) {
        bind(values)
        let rc = sqlite3_step(handle)
        sqlite3_reset(handle)
        if rc != SQLITE_DONE && rc != SQLITE_ROW { throw database.error(rc, sql: sql) }
    }

    /// Steps once; true when a row is available.
    func step() throws(CacheError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.error(rc, sql: sql)
    }

    /// Ends a query early. A SELECT left un-reset keeps its read transaction
    /// (and, in WAL mode, its old snapshot) open on the connection.
    func reset() { sqlite3_reset(handle) }

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: p)
    }
}

/// A value bound to a `CacheStatement` parameter.
enum CacheSQLValue {
    case int(Int64)
    case text(String)
}
