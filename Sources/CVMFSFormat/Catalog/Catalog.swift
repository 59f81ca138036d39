import Synchronization

/// A read-only view of one inflated catalog file (docs/format/catalogs.md).
///
/// Opening reads the properties, the statistics, the nested-catalog rows and
/// the layout once; the SQL for every later query is fixed by that layout and
/// each statement is prepared once and reused.
///
/// Thread safety: a `Catalog` is internally locked. All SQLite access goes
/// through one `Mutex` that owns the connection and its statements (the
/// connection is opened in SQLite's multi-thread mode, `SQLITE_OPEN_NOMUTEX`,
/// because the mutex already serializes it). Everything else is immutable.
/// Callbacks passed to ``forEachChild(of:includeHidden:_:)`` run under that
/// lock and must not call back into the same catalog.
public final class Catalog: Sendable {
    /// How errors name this catalog: its hash when known, else its file.
    public let label: String
    /// The inflated catalog file.
    public let path: String
    /// `schema` property (1.0 when missing).
    public let schema: Double
    /// `schema_revision` property (0 when missing).
    public let schemaRevision: Int
    /// All rows of `properties`.
    public let properties: [String: String]
    /// The `statistics` table; missing counters are 0.
    public let statistics: CatalogStatistics
    /// `SELECT MAX(rowid) FROM catalog`: the size of this catalog's inode range (docs/format/catalogs.md §10).
    public let maxRowID: Int64
    /// `root_prefix`, or `""` for a root catalog.
    public let rootPrefix: String
    /// MD5 of ``rootPrefix``: the only entry allowed an empty name.
    public let rootPathHash: PathHash

    let layout: CatalogLayout
    let flagMask: EntryFlags
    let nestedReferences: [NestedCatalogReference]
    let nestedByPath: [String: Int]
    let state: Mutex<StatementCache>

    /// Opens an inflated catalog read-only.
    ///
    /// - Parameters:
    ///   - path: the inflated SQLite file.
    ///   - hash: the catalog's content hash, used to name it in errors.
    /// - Throws: ``CatalogError/notSQLite(catalog:)`` for a file that is not a
    ///   database, ``CatalogError/unsupportedSchema(catalog:schema:revision:)``
    ///   for schemas other than 2.4 and 2.5.
    public init(path: String, hash: ContentHash? = nil) throws(CatalogError) {
        let label = hash?.description ?? path
        self.label = label
        self.path = path
        func fail(_ error: SQLiteError, _ operation: String) -> CatalogError {
            error.isNotADatabase ? .notSQLite(catalog: label) : .sqlite(error, catalog: label, operation: operation)
        }
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path, mode: .readOnly)
        } catch {
            throw fail(error, "open")
        }
        let properties: [String: String]
        let layout: CatalogLayout
        do {
            properties = try database.readProperties()
            layout = try CatalogLayout(database: database, properties: properties)
        } catch {
            throw fail(error, "reading properties")
        }
        guard layout.isSupported else {
            throw .unsupportedSchema(catalog: label, schema: properties["schema"] ?? "1.0", revision: layout.revision)
        }
        self.layout = layout
        self.properties = properties
        schema = layout.schema
        schemaRevision = layout.revision
        flagMask = layout.flagMask
        rootPrefix = properties["root_prefix"] ?? ""
        rootPathHash = PathHash(path: rootPrefix)

        do {
            statistics = try Self.readStatistics(database, layout: layout)
            let maxStmt = try database.prepare("SELECT MAX(rowid) FROM catalog")
            _ = try maxStmt.step()
            maxRowID = maxStmt.int64(at: 0)
            (nestedReferences, nestedByPath) = try Self.readNestedReferences(database, layout: layout)
        } catch {
            throw fail(error, "reading statistics and nested catalogs")
        }
        state = Mutex(StatementCache(database: database))
    }

    private static func readStatistics(_ database: SQLiteDatabase, layout: CatalogLayout) throws(SQLiteError) -> CatalogStatistics {
        var stats = CatalogStatistics()
        guard layout.hasStatistics else { return stats }
        var values: [String: Int64] = [:]
        let stmt = try database.prepare("SELECT counter, value FROM statistics")
        while try stmt.step() {
            if let name = stmt.string(at: 0) { values[name] = stmt.int64(at: 1) }
        }
        for field in CatalogCounters.fields {
            stats.own[keyPath: field.keyPath] = values["self_" + field.name] ?? 0
            stats.subtree[keyPath: field.keyPath] = values["subtree_" + field.name] ?? 0
        }
        return stats
    }

    /// The nested-catalog and bind-mount rows in table order, and the index of each path's first row.
    private static func readNestedReferences(_ database: SQLiteDatabase,
                                             layout: CatalogLayout) throws(SQLiteError) -> ([NestedCatalogReference], [String: Int]) {
        var references: [NestedCatalogReference] = []
        var byPath: [String: Int] = [:]
        let nestedStmt = try database.prepare(layout.nestedListSQL)
        while try nestedStmt.step() {
            let nestedPath = nestedStmt.string(at: 0) ?? ""
            let hashText = nestedStmt.string(at: 1) ?? ""
            let size = nestedStmt.int64(at: 2)
            let reference = NestedCatalogReference(
                path: nestedPath, hash: ContentHash(printable: hashText),
                size: UInt64(clamping: size), isBindMountpoint: nestedStmt.int64(at: 3) != 0)
            // First row wins, as with upstream's `UNION ALL … LIMIT`-free lookup that takes the first row.
            if byPath[nestedPath] == nil { byPath[nestedPath] = references.count }
            references.append(reference)
        }
        return (references, byPath)
    }

    /// A property's value, or `nil`.
    public func property(_ key: String) -> String? { properties[key] }

    /// `revision`: the catalog's revision (the repository revision for a root catalog); 0 if missing.
    public var revision: UInt64 { properties["revision"].flatMap { UInt64($0.trimmingSpaces) } ?? 0 }

    /// `TTL` in seconds, 240 when missing (`Catalog::kDefaultTTL`).
    public var ttl: UInt64 { properties["TTL"].flatMap { UInt64($0.trimmingSpaces) } ?? 240 }

    /// `last_modified` in UNIX seconds, or `nil`.
    public var lastModified: Int64? { properties["last_modified"].flatMap { Int64($0.trimmingSpaces) } }

    /// `previous_revision`, or `nil` when absent, unreadable or the null hash
    /// (40 zeros, written for nested catalogs created in this publish).
    public var previousRevision: ContentHash? {
        guard let text = properties["previous_revision"]?.trimmingSpaces,
              !text.allSatisfy({ $0 == "0" }) else { return nil }
        return ContentHash(printable: text)
    }

    /// `volatile` = 1: the client puts this repository's objects first in line for eviction.
    public var isVolatile: Bool { properties["volatile"]?.trimmingSpaces == "1" }

    /// Whether this is a root catalog (no `root_prefix`).
    public var isRoot: Bool { rootPrefix.isEmpty }
}
