/// Writes a new catalog file, schema 2.5 revision 7, with the tables, index
/// and properties upstream's server creates (docs/format/catalogs.md §2, §6, §14).
///
/// The publisher rewrites each catalog from scratch every revision, so there is
/// no update path; ``init(path:rootPrefix:revision:previousRevision:lastModified:ttl:)``
/// takes the revision bookkeeping instead.
///
/// Order of calls: the catalog's root entry first (path = `rootPrefix`), then
/// any entries with, within each directory, names in ascending byte order, so
/// that rowid order (the listing order) is sorted by name like upstream's;
/// out-of-order siblings are refused. Everything is written in one
/// transaction with journaling and syncing off (a half-written catalog is
/// thrown away anyway), and ``finish(subtree:)`` commits.
///
/// Single owner, not thread-safe.
public final class CatalogWriter {
    /// The file being written.
    public let path: String
    /// Path of this catalog's root entry; `""` for a root catalog.
    public let rootPrefix: String

    let database: SQLiteDatabase
    let insertEntry: SQLiteStatement
    let insertChunk: SQLiteStatement
    let insertNested: SQLiteStatement
    let insertBind: SQLiteStatement
    let setPropertyStatement: SQLiteStatement
    var own = CatalogCounters()
    var lastChild: [PathHash: [UInt8]] = [:]
    var wroteRoot = false
    var finished = false

    /// The SQL that creates an empty catalog, with upstream's table, column and
    /// constraint names (as found in catalogs written by upstream's server).
    static let schemaSQL = """
        \(SQLiteDatabase.createPropertiesSQL)
        CREATE TABLE catalog (md5path_1 INTEGER, md5path_2 INTEGER, parent_1 INTEGER, parent_2 INTEGER, \
        hardlinks INTEGER, hash BLOB, size INTEGER, mode INTEGER, mtime INTEGER, mtimens INTEGER, flags INTEGER, \
        name TEXT, symlink TEXT, uid INTEGER, gid INTEGER, xattr BLOB, \
        CONSTRAINT pk_catalog PRIMARY KEY (md5path_1, md5path_2));
        CREATE INDEX idx_catalog_parent ON catalog (parent_1, parent_2);
        CREATE TABLE chunks (md5path_1 INTEGER, md5path_2 INTEGER, offset INTEGER, size INTEGER, hash BLOB, \
        CONSTRAINT pk_chunks PRIMARY KEY (md5path_1, md5path_2, offset, size), \
        FOREIGN KEY (md5path_1, md5path_2) REFERENCES catalog(md5path_1, md5path_2));
        CREATE TABLE nested_catalogs (path TEXT, sha1 TEXT, size INTEGER, CONSTRAINT pk_nested_catalogs PRIMARY KEY (path));
        CREATE TABLE bind_mountpoints (path TEXT, sha1 TEXT, size INTEGER, CONSTRAINT pk_bind_mountpoints PRIMARY KEY (path));
        CREATE TABLE statistics (counter TEXT, value INTEGER, CONSTRAINT pk_statistics PRIMARY KEY (counter));
        """

    /// Creates the file (it must not exist yet) and its empty tables.
    ///
    /// - Parameters:
    ///   - rootPrefix: `""` for the root catalog, else the mount point (`/sw/gcc`), stored as `root_prefix`.
    ///   - revision: the `revision` property.
    ///   - previousRevision: this catalog's previous version. `nil` leaves the
    ///     key out of a root catalog (first revision) and writes the null hash
    ///     (40 zeros) into a nested one, as upstream does (docs/format/catalogs.md §6).
    ///   - lastModified: UNIX seconds.
    ///   - ttl: `TTL` in seconds; written to root catalogs only.
    public init(
        path: String, rootPrefix: String = "", revision: UInt64, previousRevision: ContentHash? = nil,
        lastModified: Int64, ttl: UInt64 = 240
    ) throws(CatalogError) {
        self.path = path
        self.rootPrefix = rootPrefix
        do {
            database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            if try database.tableExists("catalog") {
                throw CatalogError.writerMisuse(catalog: path, reason: "refusing to overwrite an existing catalog")
            }
            try database.execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF;")
            try database.execute("BEGIN")
            try database.execute(Self.schemaSQL)
            insertEntry = try database.prepare(
                "INSERT INTO catalog (md5path_1, md5path_2, parent_1, parent_2, hardlinks, hash, size, mode, mtime, "
                    + "mtimens, flags, name, symlink, uid, gid, xattr) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
            insertChunk = try database.prepare("INSERT INTO chunks (md5path_1, md5path_2, offset, size, hash) VALUES (?,?,?,?,?)")
            insertNested = try database.prepare("INSERT INTO nested_catalogs (path, sha1, size) VALUES (?,?,?)")
            insertBind = try database.prepare("INSERT INTO bind_mountpoints (path, sha1, size) VALUES (?,?,?)")
            setPropertyStatement = try database.prepare("INSERT OR REPLACE INTO properties (key, value) VALUES (?,?)")
        } catch let error as CatalogError {
            throw error
        } catch {
            throw .sqlite(error as! SQLiteError, catalog: path, operation: "creating the catalog")
        }
        try setProperty("schema", "2.5")
        try setProperty("schema_revision", "7")
        try setProperty("revision", String(revision))
        try setProperty("last_modified", String(lastModified))
        if rootPrefix.isEmpty {
            try setProperty("TTL", String(ttl))
            if let previousRevision { try setProperty("previous_revision", previousRevision.description) }
        } else {
            try setProperty("root_prefix", rootPrefix)
            try setProperty("previous_revision", previousRevision?.description ?? String(repeating: "0", count: 40))
        }
    }

    /// Sets a property (e.g. `volatile`, `voms_authz`, `branch`).
    public func setProperty(_ key: String, _ value: String) throws(CatalogError) {
        try run(setPropertyStatement, "setting property \(key)") { s in
            s.bind(text: key, at: 1)
            s.bind(text: value, at: 2)
        }
    }

    /// Binds, steps once and resets; an SQLite failure becomes a catalog error.
    func run(_ statement: SQLiteStatement, _ operation: @autoclosure () -> String, _ bind: (SQLiteStatement) -> Void) throws(CatalogError) {
        guard !finished else { throw .writerMisuse(catalog: path, reason: "write after finish") }
        statement.reset()
        bind(statement)
        do {
            _ = try statement.step()
        } catch {
            statement.reset()
            throw .sqlite(error, catalog: path, operation: operation())
        }
        statement.reset()
    }
}
