import CSQLite

/// A failed SQLite call, with everything an operator needs to act on it:
/// the extended result code, SQLite's own message, the statement and the file.
///
/// Result codes are an open set (SQLite adds extended codes over time), so the
/// code is kept as a raw integer rather than folded into a closed enum.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The extended result code (`sqlite3_extended_errcode`).
    public let extendedCode: Int32
    /// SQLite's message (`sqlite3_errmsg`) or our own when SQLite has none.
    public let message: String
    /// The statement that failed, if the failure belongs to one.
    public let sql: String?
    /// The database file.
    public let databasePath: String

    public init(extendedCode: Int32, message: String, sql: String?, databasePath: String) {
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
        self.databasePath = databasePath
    }

    /// The primary result code: the low byte of the extended code (SQLite doc "Result and Error Codes").
    public var primaryCode: Int32 { extendedCode & 0xff }

    /// `SQLITE_NOTADB`: the file is not a database (or is encrypted).
    public var isNotADatabase: Bool { primaryCode == SQLITE_NOTADB }

    public var description: String {
        var text = "SQLite error \(extendedCode) (\(String(cString: sqlite3_errstr(extendedCode)))) in \(databasePath): \(message)"
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }
}
