/// `/.cvmfsreflog`: every root catalog, certificate, history and meta-info
/// object a repository has ever referenced, so that garbage collection and
/// replicas know what exists without walking old revisions
/// (docs/format/repository-layout.md §2). Nested catalogs are not listed.
///
/// Single owner, not thread-safe.
public final class Reflog {
    /// `refs.type`, upstream's numbering.
    public enum Kind: Int64, Sendable, CaseIterable {
        case catalog = 0
        case certificate = 1
        case history = 2
        case metainfo = 3

        public var suffix: ObjectSuffix {
            switch self {
            case .catalog: return .catalog
            case .certificate: return .certificate
            case .history: return .history
            case .metainfo: return .metainfo
            }
        }
    }

    public struct Reference: Sendable, Equatable {
        public var hash: ContentHash
        public var kind: Kind
        /// UNIX seconds when it was added.
        public var timestamp: Int64
    }

    public let path: String
    let database: SQLiteDatabase

    private init(path: String, database: SQLiteDatabase) {
        self.path = path
        self.database = database
    }

    public static func create(path: String, fqrn: String) throws(HistoryError) -> Reflog {
        do {
            let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            try database.execute("""
                BEGIN;
                \(SQLiteDatabase.createPropertiesSQL)
                CREATE TABLE refs (hash TEXT, type INTEGER, timestamp INTEGER, CONSTRAINT pk_refs PRIMARY KEY (hash));
                """)
            try database.setProperty("schema", "1.0")
            try database.setProperty("schema_revision", "0")
            try database.setProperty("fqrn", fqrn)
            try database.execute("COMMIT;")
            return Reflog(path: path, database: database)
        } catch {
            throw .database("\(error)")
        }
    }

    public static func open(path: String, writable: Bool) throws(HistoryError) -> Reflog {
        do {
            let database = try SQLiteDatabase(path: path, mode: writable ? .readWriteCreate : .readOnly)
            guard try database.tableExists("refs") else { throw HistoryError.malformed(path: path, reason: "it has no refs table") }
            return Reflog(path: path, database: database)
        } catch let error as HistoryError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }

    public var fqrn: String? { (try? database.readProperties())?["fqrn"] }

    public func add(_ hash: ContentHash, kind: Kind, timestamp: Int64) throws(HistoryError) {
        do {
            try database.prepare("INSERT OR REPLACE INTO refs (hash, type, timestamp) VALUES (?,?,?)")
                .run([.text(hash.description), .int(kind.rawValue), .int(timestamp)])
        } catch {
            throw .database("\(error)")
        }
    }

    public func remove(_ hash: ContentHash) throws(HistoryError) {
        do { try database.prepare("DELETE FROM refs WHERE hash = ?").run([.text(hash.description)]) } catch { throw .database("\(error)") }
    }

    /// The references of one kind, oldest first.
    public func references(_ kind: Kind) throws(HistoryError) -> [Reference] {
        do {
            let stmt = try database.prepare("SELECT hash, timestamp FROM refs WHERE type = ? ORDER BY timestamp, hash")
            stmt.bind([.int(kind.rawValue)])
            var result: [Reference] = []
            while try stmt.step() {
                let text = stmt.string(at: 0) ?? ""
                guard let hash = ContentHash(printable: text) else {
                    throw HistoryError.malformed(path: path, reason: "reference '\(text)' is not a hash")
                }
                result.append(Reference(hash: hash, kind: kind, timestamp: stmt.int64(at: 1)))
            }
            return result
        } catch let error as HistoryError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }
}
