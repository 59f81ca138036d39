/// A catalog's connection and its prepared statements, owned by the catalog's
/// `Mutex`. A slot is emptied when its statement fails, so the next call
/// prepares a fresh one: a statement whose step failed is never reused, so a
/// corrupt catalog cannot poison the next query.
final class StatementCache {
    let database: SQLiteDatabase
    var lookup: SQLiteStatement?
    var listing: SQLiteStatement?
    var xattr: SQLiteStatement?
    var chunks: SQLiteStatement?

    init(database: SQLiteDatabase) {
        self.database = database
    }
}

// Only ever reached through `Catalog.state`, a `Mutex`, so the connection and
// statements are used by one thread at a time, which is what SQLite's
// multi-thread mode (`SQLITE_OPEN_NOMUTEX`) requires.
extension StatementCache: @unchecked Sendable {}
