import CSQLite

/// A prepared statement, owned by exactly one object and finalized in `deinit`.
/// Reuse it with ``reset()`` (which also clears the bindings) → bind → ``step()``.
///
/// After ``step()`` throws, the statement must be dropped and prepared again:
/// `sqlite3_reset` returns the same error and does not promise a usable
/// statement after e.g. `SQLITE_CORRUPT` (SQLite doc of `sqlite3_reset`), so
/// a corrupt catalog must not poison the next lookup.
public final class SQLiteStatement {
    let handle: OpaquePointer
    /// Kept so the connection outlives the statement.
    let database: SQLiteDatabase
    /// The statement's SQL, for error messages.
    public let sql: String

    init(database: SQLiteDatabase, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Resets the statement and clears all bindings, so nothing can point at
    /// memory lent to an earlier call.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // A failed bind can only mean a wrong index or a statement in the wrong
    // state, i.e. a bug in our code: stop rather than run the wrong query.
    func checkBind(_ rc: Int32, _ index: Int32) {
        if rc != SQLITE_OK { fatalError("sqlite3_bind failed (\(rc)) at index \(index) of \(sql)") }
    }

    /// Binds a 64-bit integer (1-based index).
    public func bind(_ value: Int64, at index: Int32) {
        checkBind(sqlite3_bind_int64(handle, index, value), index)
    }

    /// Binds SQL NULL.
    public func bindNull(at index: Int32) {
        checkBind(sqlite3_bind_null(handle, index), index)
    }

    /// Binds a copy of `text` (`SQLITE_TRANSIENT`).
    public func bind(text: String, at index: Int32) {
        var text = text
        text.withUTF8 { utf8 in
            bindCopy(text: UnsafeRawBufferPointer(utf8), at: index)
        }
    }

    /// Binds a copy of `bytes` as TEXT (names that need not be valid UTF-8).
    public func bind(textBytes bytes: [UInt8], at index: Int32) {
        bytes.withUnsafeBytes { bindCopy(text: $0, at: index) }
    }

    /// Binds a copy of raw bytes as TEXT.
    public func bindCopy(text raw: UnsafeRawBufferPointer, at index: Int32) {
        // A zero-length text needs a non-NULL pointer, or SQLite binds NULL instead of ''.
        let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        checkBind(cvmfs_sqlite_bind_text_transient(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(raw.count)), index)
    }

    /// Binds a copy of `bytes` as a BLOB.
    public func bind(blob bytes: UnsafeRawBufferPointer, at index: Int32) {
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        checkBind(cvmfs_sqlite_bind_blob_transient(handle, index, base, Int32(bytes.count)), index)
    }

    /// Binds `bytes` as a BLOB without copying, for the duration of `body` only;
    /// the binding is cleared again before returning so the statement never
    /// points at freed memory.
    public func withBorrowedBlob<R, E: Error>(_ bytes: UnsafeRawBufferPointer, at index: Int32, _ body: () throws(E) -> R) throws(E) -> R {
        checkBind(cvmfs_sqlite_bind_blob_static(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(bytes.count)), index)
        defer { sqlite3_reset(handle); sqlite3_clear_bindings(handle) }
        return try body()
    }

    /// Advances to the next row: `true` for a row, `false` when done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.lastError(sql: sql)
    }

    /// Whether the column of the current row is NULL.
    public func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// The column as a 64-bit integer (NULL reads as 0).
    public func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// The column as text, or `nil` for NULL. Invalid UTF-8 is repaired.
    public func string(at column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Lends the raw bytes of a TEXT or BLOB column (empty for NULL) for the
    /// duration of `body`; the pointer is invalid after the next step or reset.
    public func withBytes<R, E: Error>(at column: Int32, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        // Order matters: fetch the pointer first, then the length (SQLite doc "Result Values From A Query").
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: count > 0 ? pointer : nil, count: count))
    }

    /// A copy of a TEXT or BLOB column's bytes (empty for NULL).
    public func bytes(at column: Int32) -> [UInt8] {
        withBytes(at: column) { Array($0) }
    }
}
