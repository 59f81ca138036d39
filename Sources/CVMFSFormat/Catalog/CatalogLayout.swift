/// What one catalog file looks like: its schema version and which optional
/// columns and tables exist. Decided once at open; every statement's SQL is
/// derived from it (docs/format/catalogs.md §1, §13).
///
/// Optional columns are detected by name (`pragma_table_info`) rather than
/// inferred from the revision alone: columns added by `ALTER TABLE` sit at the
/// end, their presence is what the SQL depends on, and a catalog whose
/// revision and columns disagree then still reads instead of failing to prepare.
struct CatalogLayout: Sendable {
    /// `schema` property (1.0 when missing).
    var schema: Double
    /// `schema_revision` property (0 when missing).
    var revision: Int
    var hasMtimeNanoseconds: Bool
    var hasXattr: Bool
    var hasOwner: Bool
    var nestedHasSize: Bool
    var hasBindMountpoints: Bool
    var bindHasSize: Bool
    var hasStatistics: Bool

    /// Schema versions we read: 2.4 and 2.5, the ones the upstream client accepts
    /// besides the legacy 1.x formats, which we leave out (docs/format/catalogs.md §1 allows it).
    var isSupported: Bool {
        abs(schema - 2.5) < 0.0005 || abs(schema - 2.4) < 0.0005
    }

    var isSchema25: Bool { abs(schema - 2.5) < 0.0005 }

    /// Flag bits this catalog may legitimately carry; bits introduced by a later
    /// revision are masked off so that garbage in them is not misread
    /// (e.g. rev < 3 has no external flag and no compression field).
    var flagMask: EntryFlags {
        var mask: EntryFlags = [.directory, .nestedMountpoint, .file, .link, .special, .nestedRoot, .chunked, .hashAlgorithmField]
        let revision = isSchema25 ? revision : -1
        if revision >= 3 { mask.formUnion([.external, .compressionField]) }
        if revision >= 4 { mask.formUnion([.bindMountpoint, .hidden]) }
        if revision >= 6 { mask.insert(.directIO) }
        return mask
    }

    /// The dirent columns, in the fixed order ``Catalog`` decodes them.
    var direntColumns: String {
        "hash, hardlinks, size, mode, mtime, flags, name, symlink, md5path_1, md5path_2, parent_1, parent_2, rowid, "
            + (hasOwner ? "uid, gid, " : "0, 0, ")
            + (hasXattr ? "xattr IS NOT NULL, " : "0, ")
            + (hasMtimeNanoseconds ? "mtimens" : "NULL")
    }

    var lookupSQL: String { "SELECT \(direntColumns) FROM catalog WHERE md5path_1=? AND md5path_2=?" }
    /// No ORDER BY: SQLite walks `idx_catalog_parent`, which yields ascending rowid within a parent.
    var listingSQL: String { "SELECT \(direntColumns) FROM catalog WHERE parent_1=? AND parent_2=?" }
    var xattrSQL: String { "SELECT xattr FROM catalog WHERE md5path_1=? AND md5path_2=?" }
    var chunksSQL: String { "SELECT offset, size, hash FROM chunks WHERE md5path_1=? AND md5path_2=? ORDER BY offset ASC" }

    var nestedListSQL: String {
        var sql = "SELECT path, sha1, \(nestedHasSize ? "size" : "0"), 0 FROM nested_catalogs"
        if hasBindMountpoints {
            sql += " UNION ALL SELECT path, sha1, \(bindHasSize ? "size" : "0"), 1 FROM bind_mountpoints"
        }
        return sql
    }

    /// Reads the layout of an open catalog.
    init(database: SQLiteDatabase, properties: [String: String]) throws(SQLiteError) {
        schema = properties["schema"].flatMap { Double($0.trimmingSpaces) } ?? 1.0
        revision = properties["schema_revision"].flatMap { Int($0.trimmingSpaces) } ?? 0
        let catalogColumns = Set(try database.columnNames(of: "catalog"))
        hasMtimeNanoseconds = catalogColumns.contains("mtimens")
        hasXattr = catalogColumns.contains("xattr")
        hasOwner = catalogColumns.contains("uid") && catalogColumns.contains("gid")
        nestedHasSize = try database.columnNames(of: "nested_catalogs").contains("size")
        let bindColumns = try database.columnNames(of: "bind_mountpoints")
        hasBindMountpoints = !bindColumns.isEmpty
        bindHasSize = bindColumns.contains("size")
        hasStatistics = try database.tableExists("statistics")
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and newlines (property values are hand-editable text).
    var trimmingSpaces: Substring {
        let s = Substring(self)
        guard let first = s.firstIndex(where: { $0 != " " && $0 != "\n" }),
              let last = s.lastIndex(where: { $0 != " " && $0 != "\n" }) else { return "" }
        return s[first...last]
    }
}
