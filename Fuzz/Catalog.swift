import CVMFSFormat
import Glibc

/// Catalog rows through the real reader (`Catalog`). The input is decoded into a catalog:
/// the publisher's schema (written by `CatalogWriter` once per process), optional columns and
/// tables dropped as older revisions lack them, then properties, `catalog` rows (names,
/// symlink targets, hashes, flags, modes, xattr blobs), `chunks`, `nested_catalogs`,
/// `bind_mountpoints` and `statistics` rows in any order. A first byte with the high bit
/// set means the rest is a whole SQLite file instead. The harness then opens it, reads the
/// properties, walks the tree from the root (lookup, listing, xattrs, chunk lists, variant
/// symlinks) and checks what the reader promises: listed names are safe path components,
/// a listed entry looks up to the same row, chunk lists are contiguous, xattr blobs
/// round-trip. A whole SQLite file may have an index that disagrees with its table (the
/// listing reads `idx_catalog_parent`, a lookup the table); the reader cannot see that
/// without `PRAGMA integrity_check`, which it does not run on catalogs whose hash was
/// verified, so listing and lookup are compared only for files that pass the check.
let catalogHarness = Harness(
    name: "catalog",
    summary: "Catalog(path:) on fuzzed rows: properties, lookup, listing, xattrs, chunks, nested catalogs, symlinks"
) { bytes in
    var input = FuzzReader(bytes)
    let mode = input.byte()
    let path = scratchDirectory + "/catalog.db"
    var paths: [[UInt8]] = [[]]
    var whole = false
    if mode & 0x80 != 0 {
        writeFile(path, input.rest())
        whole = true
    } else {
        guard CatalogBuilder.build(path: path, mode: mode, input: &input, paths: &paths) else { return }
    }
    guard let catalog = try? Catalog(path: path) else { return }
    // Built catalogs come from SQLite's own inserts, so their indexes agree with their tables.
    // A whole file is checked only when listing and lookup disagree (one more open and a
    // full scan per input otherwise, for the rare file where it matters).
    var agreement: Bool? = whole ? nil : true
    CatalogExercise.run(catalog, paths: paths) {
        if agreement == nil { agreement = CatalogBuilder.passesIntegrityCheck(path) }
        return agreement!
    }
}

private enum CatalogBuilder {
    /// The publisher's empty schema with a root directory row.
    static let template: [UInt8] = {
        let path = scratchDirectory + "/template.db"
        let writer = try! CatalogWriter(path: path, revision: 1, lastModified: 0)
        try! writer.add(path: "", entry: DirectoryEntry(name: [], mode: 0o040755))
        try! writer.finish()
        return readFile(path)!
    }()

    /// The connection of one mode (bits 0-6: dropped columns and tables, root row kept) on its
    /// starting file, made once per process, with its compiled statements. `ALTER TABLE DROP
    /// COLUMN`, opening a connection, reading the schema and compiling statements per input
    /// cost more than everything else; instead each input's rows go in inside a transaction,
    /// `sqlite3_serialize` copies the database as the transaction sees it (all pages read through
    /// the pager, page 1 with its page count included) into the reader's file, and the transaction is
    /// rolled back (the journal is in memory), which puts every page back:
    /// the next input starts from the same bytes.
    final class Builder {
        let path: String
        let database: SQLiteDatabase
        /// The `catalog` columns after the path hashes, in table order.
        let columns: [String]
        var statements: [String: SQLiteStatement] = [:]

        init(mode key: UInt8) throws(SQLiteError) {
            path = scratchDirectory + "/template-\(key).db"
            writeFile(path, template)
            database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            try database.execute("PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; BEGIN")
            if key & 0x01 != 0 { try database.execute("ALTER TABLE catalog DROP COLUMN mtimens") }
            if key & 0x02 != 0 { try database.execute("ALTER TABLE catalog DROP COLUMN xattr") }
            if key & 0x04 != 0 { try database.execute("ALTER TABLE catalog DROP COLUMN uid; ALTER TABLE catalog DROP COLUMN gid") }
            if key & 0x08 != 0 { try database.execute("DROP TABLE bind_mountpoints") }
            if key & 0x10 != 0 { try database.execute("DROP TABLE statistics") }
            if key & 0x20 != 0 { try database.execute("ALTER TABLE nested_catalogs DROP COLUMN size") }
            if key & 0x40 == 0 { try database.execute("DELETE FROM catalog") }
            try database.execute("COMMIT")
            columns = try database.columnNames(of: "catalog").filter {
                $0 != "md5path_1" && $0 != "md5path_2" && $0 != "parent_1" && $0 != "parent_2"
            }
        }

        /// `sql` compiled once per process.
        func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
            if let made = statements[sql] { return made }
            let made = try database.prepare(sql)
            statements[sql] = made
            return made
        }
    }

    nonisolated(unsafe) static var builders: [UInt8: Builder] = [:]

    static func builder(mode: UInt8) -> Builder {
        let key = mode & 0x7F
        if let made = builders[key] { return made }
        do throws(SQLiteError) {
            let made = try Builder(mode: key)
            builders[key] = made
            return made
        } catch {
            fatalError("cannot make the catalog template of mode \(key): \(error)")
        }
    }

    static let propertyKeys = ["schema", "schema_revision", "revision", "TTL", "last_modified", "previous_revision",
                               "volatile", "root_prefix", "cvmfs_swift_profiles"]
    static let counterNames = ["self_regular", "self_dir", "self_symlink", "self_chunked", "subtree_regular",
                               "subtree_file_size", "self_nested", "self_xattr", "subtree_chunked_size"]

    /// Whether SQLite finds the file whole, its indexes matching its tables.
    static func passesIntegrityCheck(_ path: String) -> Bool {
        do throws(SQLiteError) {
            let db = try SQLiteDatabase(path: path, mode: .readOnly)
            let check = try db.prepare("PRAGMA integrity_check(1)")
            return try check.step() && check.string(at: 0) == "ok"
        } catch {
            return false
        }
    }

    /// Writes the catalog `input` describes; false when SQLite refused it as a whole.
    static func build(path: String, mode: UInt8, input: inout FuzzReader, paths: inout [[UInt8]]) -> Bool {
        let builder = builder(mode: mode)
        let db = builder.database
        let names = builder.columns
        func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement { try builder.statement(sql) }
        defer {
            // Back to the starting file whatever happened (an error may have ended the
            // transaction already), with no statement left holding bound values.
            for statement in builder.statements.values { statement.reset() }
            if !db.isAutocommit { try! db.execute("ROLLBACK") }
        }
        var bytes: [UInt8] = []
        do throws(SQLiteError) {
            try db.execute("BEGIN")
            let insertRowSQL = "INSERT OR REPLACE INTO catalog (md5path_1, md5path_2, parent_1, parent_2, "
                + names.joined(separator: ", ") + ") VALUES (?,?,?,?" + String(repeating: ",?", count: names.count) + ")"
            let insertChunkSQL = "INSERT OR REPLACE INTO chunks (md5path_1, md5path_2, offset, size, hash) VALUES (?,?,?,?,?)"
            let insertNestedSQL = mode & 0x20 != 0 ? "INSERT OR REPLACE INTO nested_catalogs (path, sha1) VALUES (?,?)"
                : "INSERT OR REPLACE INTO nested_catalogs (path, sha1, size) VALUES (?,?,?)"
            let insertBindSQL = mode & 0x08 != 0 ? nil : "INSERT OR REPLACE INTO bind_mountpoints (path, sha1, size) VALUES (?,?,?)"
            let insertCounterSQL = mode & 0x10 != 0 ? nil : "INSERT OR REPLACE INTO statistics (counter, value) VALUES (?,?)"
            let setPropertySQL = "INSERT OR REPLACE INTO properties (key, value) VALUES (?,?)"
            var last = PathHash(path: "")

            var rows = 0
            while !input.isAtEnd && rows < 64 {
                rows += 1
                switch input.byte() % 6 {
                case 0:
                    try statement(setPropertySQL).run([.text(input.pick(propertyKeys)), .text(input.text())])
                case 1:
                    let parentIndex = Int(input.byte())
                    let name = input.data()
                    let parentPath = parentIndex == 255 ? nil : paths[parentIndex % paths.count]
                    // 255: the root entry (empty name, null parent); else a child of a known path.
                    let full = parentPath.map { $0 + [0x2F] + name } ?? []
                    let hash = full.withUnsafeBytes { PathHash(path: $0) }
                    let parent = parentPath.map { p in p.withUnsafeBytes { PathHash(path: $0) } } ?? .null
                    let insertRow = try statement(insertRowSQL)
                    insertRow.reset()
                    insertRow.bind(hash.high, at: 1); insertRow.bind(hash.low, at: 2)
                    insertRow.bind(parent.high, at: 3); insertRow.bind(parent.low, at: 4)
                    var mode: Int64 = 0
                    for (offset, column) in names.enumerated() {
                        let index = Int32(offset + 5)
                        switch column {
                        case "name": insertRow.bind(textBytes: parentPath == nil ? [] : name, at: index)
                        case "hash", "xattr":
                            let blob = input.data()
                            if blob.isEmpty && column == "xattr" { insertRow.bindNull(at: index); break }
                            blob.withUnsafeBytes { insertRow.bind(blob: $0, at: index) }
                        case "symlink": insertRow.bind(textBytes: input.data(), at: index)
                        case "mtimens":
                            let value = input.int64()
                            if value == 0 { insertRow.bindNull(at: index) } else { insertRow.bind(value, at: index) }
                        case "mode":
                            mode = input.int64()
                            insertRow.bind(mode, at: index)
                        default: insertRow.bind(input.int64(), at: index)
                        }
                    }
                    _ = try insertRow.step()
                    last = hash
                    if mode & 0o170000 == 0o040000 && paths.count < 255 { paths.append(full) }
                case 2:
                    let insertChunk = try statement(insertChunkSQL)
                    insertChunk.reset()
                    insertChunk.bind(last.high, at: 1); insertChunk.bind(last.low, at: 2)
                    insertChunk.bind(input.int64(), at: 3); insertChunk.bind(input.int64(), at: 4)
                    let hash = input.data()
                    hash.withUnsafeBytes { insertChunk.bind(blob: $0, at: 5) }
                    _ = try insertChunk.step()
                case 3, 4:
                    let nested = input.byte() & 1 == 0 || insertBindSQL == nil
                    let index = Int(input.byte())
                    let mountPath = index < paths.count ? String(decoding: paths[index], as: UTF8.self) : input.text()
                    let digest = input.data()
                    let hash = digest.count == 20 ? ContentHash(algorithm: .sha1, digest: digest)?.description : nil
                    var values: [SQLiteValue] = [.text(mountPath), .text(hash ?? String(decoding: digest, as: UTF8.self))]
                    if !nested || mode & 0x20 == 0 { values.append(.int(input.int64())) }
                    try statement(nested ? insertNestedSQL : insertBindSQL!).run(values)
                default:
                    // (Without the table the row's bytes are not read, as before.)
                    if let insertCounterSQL {
                        try statement(insertCounterSQL).run([.text(input.pick(counterNames)), .int(input.int64())])
                    }
                }
            }
            guard let made = db.serialized() else { fatalError("sqlite3_serialize failed") }
            bytes = made
        } catch {
            return false
        }
        writeFile(path, bytes)
        return true
    }
}

private enum CatalogExercise {
    static let variables = ["ARCH": "x86_64", "EMPTY": "", "CVMFS_FIXTURE_ARCH": "x86_64"]

    /// `indexesAgree` tells (and is asked only on a disagreement) whether the file's indexes
    /// match its tables, without which listing and lookup may rightly differ.
    static func run(_ catalog: Catalog, paths: [[UInt8]], indexesAgree: () -> Bool) {
        _ = (catalog.revision, catalog.ttl, catalog.lastModified, catalog.previousRevision, catalog.isVolatile)
        _ = (catalog.isRoot, catalog.statistics, catalog.maxRowID, catalog.schema, catalog.schemaRevision)
        for reference in catalog.nestedCatalogs() {
            FuzzCheck.require(catalog.nestedCatalog(at: reference.path) != nil, "nested catalog \(reference.path) not found by its path")
        }
        for path in paths {
            let text = String(decoding: path, as: UTF8.self)
            _ = catalog.nestedCatalog(containing: text, includeExact: true)
            _ = catalog.nestedCatalog(containing: text, includeExact: false)
            if let entry = try? catalog.lookup(path: text) { visit(entry, in: catalog) }
        }

        // Walk the tree from the root; a visited set keeps loops in fuzzed parent links finite.
        var pending = [catalog.rootPathHash]
        var seen: Set<PathHash> = [catalog.rootPathHash]
        var visited = 0
        while let directory = pending.popLast(), visited < 4096 {
            guard let children = try? catalog.children(of: directory, includeHidden: true) else { continue }
            for child in children {
                visited += 1
                FuzzCheck.require(Catalog.isValidName(child.nameBytes) || child.pathHash == catalog.rootPathHash,
                                  "listing returned an unsafe name \(child.nameBytes)")
                if child.parentHash != directory {
                    FuzzCheck.require(!indexesAgree(), "listing returned a child of another directory")
                }
                if let again = try? catalog.lookup(child.pathHash), !(again.rowID == child.rowID && again == child) {
                    FuzzCheck.require(!indexesAgree(), "lookup of a listed entry gives another row")
                }
                visit(child, in: catalog)
                if child.isDirectory && seen.insert(child.pathHash).inserted { pending.append(child.pathHash) }
            }
        }
    }

    static func visit(_ entry: DirectoryEntry, in catalog: Catalog) {
        if let list = try? catalog.xattrs(of: entry.pathHash) {
            FuzzCheck.require(XattrList(serialized: list.serialized()) == list, "xattr blob does not round-trip")
            for key in list.keys { _ = list[key] }
        }
        if let chunks = try? catalog.chunks(of: entry) {
            var end: UInt64 = 0
            for chunk in chunks {
                FuzzCheck.require(chunk.offset == end && chunk.size > 0, "chunk list is not contiguous")
                end += chunk.size
            }
            FuzzCheck.require(chunks.isEmpty || end == entry.size, "chunks do not cover the file")
        }
        if entry.isSymlink {
            let expanded = SymlinkExpander.expand(entry.symlinkBytes, lookup: { variables[$0] })
            if !entry.symlinkBytes.contains(UInt8(ascii: "$")) {
                FuzzCheck.require(expanded == entry.symlinkBytes, "a target without $( changed in expansion")
            }
        }
    }
}
