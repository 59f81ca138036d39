/// The tag database a manifest names with key `H`: schema 1.0 revision 3,
/// with upstream's tables and constraints (docs/format/repository-layout.md §4.1).
/// Clients read it to mount a named tag or a date; the publisher rewrites it
/// at every publication; replicas copy it.
///
/// Single owner, not thread-safe.
public final class HistoryDatabase {
    public let path: String
    let database: SQLiteDatabase

    static let schemaSQL = """
        \(SQLiteDatabase.createPropertiesSQL)
        CREATE TABLE branches (branch TEXT, parent TEXT, initial_revision INTEGER, \
        CONSTRAINT pk_branch PRIMARY KEY (branch), FOREIGN KEY (parent) REFERENCES branches (branch), \
        CHECK ((branch <> '') OR (parent IS NULL)), CHECK ((branch = '') OR (parent IS NOT NULL)));
        INSERT INTO branches (branch, parent, initial_revision) VALUES ('', NULL, 0);
        CREATE TABLE tags (name TEXT, hash TEXT, revision INTEGER, timestamp INTEGER, channel INTEGER, \
        description TEXT, size INTEGER, branch TEXT, CONSTRAINT pk_tags PRIMARY KEY (name), \
        FOREIGN KEY (branch) REFERENCES branches (branch));
        CREATE TABLE recycle_bin (hash TEXT, flags INTEGER, CONSTRAINT pk_hash PRIMARY KEY (hash));
        """

    /// The `previous_revision` value of a first history: 40 zeros, no algorithm id.
    static let noPreviousRevision = String(repeating: "0", count: 40)

    private init(path: String, database: SQLiteDatabase) {
        self.path = path
        self.database = database
    }

    /// Creates an empty history for `fqrn` at `path` (which must not exist).
    public static func create(path: String, fqrn: String) throws(HistoryError) -> HistoryDatabase {
        do {
            let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            try database.execute("BEGIN;" + schemaSQL)
            try database.setProperty("schema", "1.0")
            try database.setProperty("schema_revision", "3")
            try database.setProperty("fqrn", fqrn)
            try database.setProperty("previous_revision", noPreviousRevision)
            try database.execute("COMMIT;")
            return HistoryDatabase(path: path, database: database)
        } catch {
            throw .database("\(error)")
        }
    }

    /// Opens an existing history. `writable` for the publisher, which
    /// upgrades nothing: a history older than revision 1 (no `size` column)
    /// is refused, since upstream has written revision 3 since 2.5.
    public static func open(path: String, writable: Bool) throws(HistoryError) -> HistoryDatabase {
        do {
            let database = try SQLiteDatabase(path: path, mode: writable ? .readWriteCreate : .readOnly)
            let properties = try database.readProperties()
            guard try database.tableExists("tags") else { throw HistoryError.malformed(path: path, reason: "it has no tags table") }
            let schema = properties["schema"].flatMap { Double($0.trimmingSpaces) } ?? 0
            guard abs(schema - 1.0) < 0.0001 else {
                throw HistoryError.malformed(path: path, reason: "schema \(properties["schema"] ?? "missing") is not 1.0")
            }
            let columns = try database.columnNames(of: "tags")
            for needed in ["name", "hash", "revision", "timestamp", "description"] where !columns.contains(needed) {
                throw HistoryError.malformed(path: path, reason: "its tags table has no column \(needed)")
            }
            let history = HistoryDatabase(path: path, database: database)
            history.hasSize = columns.contains("size")
            history.hasBranch = columns.contains("branch")
            if writable && !(history.hasSize && history.hasBranch) {
                throw HistoryError.malformed(path: path, reason: "schema revision \(properties["schema_revision"] ?? "0") is older than the 3 this publisher writes")
            }
            return history
        } catch let error as HistoryError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }

    private var hasSize = true
    private var hasBranch = true

    public var fqrn: String? { (try? database.readProperties())?["fqrn"] }

    /// The history this one replaced, or `nil` for the first.
    public func previousRevision() throws(HistoryError) -> ContentHash? {
        let value: String?
        do { value = try database.readProperties()["previous_revision"] } catch { throw .database("\(error)") }
        guard let value, value != Self.noPreviousRevision else { return nil }
        guard let hash = ContentHash(printable: value) else {
            throw .malformed(path: path, reason: "previous_revision '\(value)' is not a hash")
        }
        return hash
    }

    public func setPreviousRevision(_ hash: ContentHash) throws(HistoryError) {
        do { try database.setProperty("previous_revision", hash.description) } catch { throw .database("\(error)") }
    }

    /// Every tag of the trunk branch, newest revision first.
    public func tags() throws(HistoryError) -> [RepositoryTag] {
        try select(where: hasBranch ? "branch = ''" : "1", arguments: [], limit: nil)
    }

    public func tag(named name: String) throws(HistoryError) -> RepositoryTag? {
        try select(where: "name = ?", arguments: [.text(name)], limit: 1).first
    }

    /// The newest trunk tag published at or before `timestamp`, as the client
    /// picks it for `CVMFS_REPOSITORY_DATE`.
    public func newestTag(notAfter timestamp: Int64) throws(HistoryError) -> RepositoryTag? {
        try select(where: (hasBranch ? "branch = '' AND " : "") + "timestamp <= ?", arguments: [.int(timestamp)], limit: 1).first
    }

    /// Adds `tag`, replacing a tag of the same name.
    public func insert(_ tag: RepositoryTag) throws(HistoryError) {
        do {
            try database.prepare("INSERT OR REPLACE INTO tags (name, hash, revision, timestamp, channel, description, size, branch) VALUES (?,?,?,?,0,?,?,'')")
                .run([.text(tag.name), .text(tag.rootCatalog.description), .int(Int64(tag.revision)), .int(tag.timestamp),
                      .text(tag.description), .int(Int64(tag.catalogSize))])
        } catch {
            throw .database("\(error)")
        }
    }

    public func remove(named name: String) throws(HistoryError) {
        do { try database.prepare("DELETE FROM tags WHERE name = ?").run([.text(name)]) } catch { throw .database("\(error)") }
    }

    /// Moves `trunk` to `head` and the old `trunk` to `trunk-previous`, as
    /// upstream's publisher does after every publication.
    public func moveTrunk(to head: RepositoryTag) throws(HistoryError) {
        if let old = try tag(named: RepositoryTag.trunk) {
            var previous = old
            previous.name = RepositoryTag.trunkPrevious
            previous.description = "default undo target"
            try insert(previous)
        }
        var trunk = head
        trunk.name = RepositoryTag.trunk
        trunk.description = "current HEAD"
        try insert(trunk)
    }

    private func select(where condition: String, arguments: [SQLiteValue], limit: Int?) throws(HistoryError) -> [RepositoryTag] {
        let size = hasSize ? "size" : "0"
        let sql = "SELECT name, hash, revision, timestamp, description, \(size) FROM tags WHERE \(condition) ORDER BY revision DESC, name"
            + (limit.map { " LIMIT \($0)" } ?? "")
        do {
            let stmt = try database.prepare(sql)
            stmt.bind(arguments)
            var tags: [RepositoryTag] = []
            while try stmt.step() {
                let name = stmt.string(at: 0) ?? ""
                let hashText = stmt.string(at: 1) ?? ""
                guard let hash = ContentHash(printable: hashText) else {
                    throw HistoryError.malformed(path: path, reason: "tag '\(name)' has the hash '\(hashText)'")
                }
                tags.append(RepositoryTag(
                    name: name, rootCatalog: hash, revision: UInt64(max(0, stmt.int64(at: 2))), timestamp: stmt.int64(at: 3),
                    description: stmt.string(at: 4) ?? "", catalogSize: UInt64(max(0, stmt.int64(at: 5)))))
            }
            return tags
        } catch let error as HistoryError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }
}
