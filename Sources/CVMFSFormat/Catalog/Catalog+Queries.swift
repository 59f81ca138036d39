extension Catalog {
    /// Runs `body` on the statement in `slot` under the catalog's lock: prepares
    /// it on first use, resets and clears it before and after, and drops it
    /// after an SQLite failure so a broken statement is never reused.
    func withStatement<R: Sendable>(
        _ slot: ReferenceWritableKeyPath<StatementCache, SQLiteStatement?>,
        sql: @autoclosure () -> String,
        operation: @autoclosure () -> String,
        _ body: (SQLiteStatement) throws(CatalogError) -> R
    ) throws(CatalogError) -> R {
        try state.withLock { cache throws(CatalogError) -> R in
            let statement: SQLiteStatement
            if let cached = cache[keyPath: slot] {
                statement = cached
            } else {
                let text = sql()
                do throws(SQLiteError) {
                    statement = try cache.database.prepare(text)
                } catch {
                    throw .sqlite(error, catalog: label, operation: operation())
                }
                cache[keyPath: slot] = statement
            }
            statement.reset()
            do throws(CatalogError) {
                let result = try body(statement)
                // Reset at once: it ends the read transaction and drops borrowed bindings.
                statement.reset()
                return result
            } catch {
                if case .sqlite = error { cache[keyPath: slot] = nil } else { statement.reset() }
                throw error
            }
        }
    }

    /// `step()` with SQLite errors turned into catalog errors.
    @inline(__always)
    func step(_ statement: SQLiteStatement, _ operation: @autoclosure () -> String) throws(CatalogError) -> Bool {
        do {
            return try statement.step()
        } catch {
            throw .sqlite(error, catalog: label, operation: operation())
        }
    }

    /// Binds a path hash to parameters 1 and 2.
    @inline(__always)
    func bind(_ hash: PathHash, _ statement: SQLiteStatement) {
        statement.bind(hash.high, at: 1)
        statement.bind(hash.low, at: 2)
    }

    /// Looks up the entry whose full path hashes to `pathHash`, or `nil`.
    ///
    /// The hot path: one cached statement, no string building; the only heap
    /// allocation is the entry's name.
    public func lookup(_ pathHash: PathHash) throws(CatalogError) -> DirectoryEntry? {
        try withStatement(\.lookup, sql: layout.lookupSQL, operation: "lookup of \(pathHash.hex)") { statement throws(CatalogError) in
            bind(pathHash, statement)
            guard try step(statement, "lookup of \(pathHash.hex)") else { return nil }
            return try decodeEntry(statement)
        }
    }

    /// Looks up a full repository path (e.g. `/a/b`; the root is `""`).
    public func lookup(path: String) throws(CatalogError) -> DirectoryEntry? {
        try lookup(PathHash(path: path))
    }

    /// Calls `body` for each child of the directory whose path hashes to
    /// `parent`, in rowid order; hidden entries are skipped unless asked for.
    /// `body` runs under the catalog's lock and must not use this catalog.
    public func forEachChild(
        of parent: PathHash, includeHidden: Bool = false,
        _ body: (DirectoryEntry) throws(CatalogError) -> Void
    ) throws(CatalogError) {
        try withStatement(\.listing, sql: layout.listingSQL, operation: "listing of \(parent.hex)") { statement throws(CatalogError) in
            bind(parent, statement)
            while try step(statement, "listing of \(parent.hex)") {
                let entry = try decodeEntry(statement)
                if entry.isHidden && !includeHidden { continue }
                try body(entry)
            }
        }
    }

    /// The children of a directory, in rowid order, hidden ones left out unless asked for.
    public func children(of parent: PathHash, includeHidden: Bool = false) throws(CatalogError) -> [DirectoryEntry] {
        var result: [DirectoryEntry] = []
        try forEachChild(of: parent, includeHidden: includeHidden) { result.append($0) }
        return result
    }

    /// The extended attributes of an entry: `nil` when it has none, the row is
    /// missing, or the blob is corrupted (docs/format/catalogs.md §8 treats that as none).
    public func xattrs(of pathHash: PathHash) throws(CatalogError) -> XattrList? {
        guard layout.hasXattr else { return nil }
        return try withStatement(\.xattr, sql: layout.xattrSQL, operation: "xattrs of \(pathHash.hex)") { statement throws(CatalogError) in
            bind(pathHash, statement)
            guard try step(statement, "xattrs of \(pathHash.hex)"), !statement.isNull(at: 0) else { return nil }
            return statement.withBytes(at: 0) { XattrList(serialized: $0) }
        }
    }

    /// The chunk list of a file, ordered by offset and checked to be contiguous
    /// from 0 (docs/format/objects-and-chunks.md §4.1). Empty when the file has no chunks.
    ///
    /// - Parameters:
    ///   - algorithm: the file's hash algorithm (chunk hashes share it).
    ///   - expectedSize: when given, the chunk sizes must add up to it.
    public func chunks(of pathHash: PathHash, algorithm: HashAlgorithm, expectedSize: UInt64? = nil) throws(CatalogError) -> [FileChunk] {
        let label = self.label
        return try withStatement(\.chunks, sql: layout.chunksSQL, operation: "chunks of \(pathHash.hex)") { statement throws(CatalogError) in
            bind(pathHash, statement)
            var list: [FileChunk] = []
            var end: UInt64 = 0
            while try step(statement, "chunks of \(pathHash.hex)") {
                let offset = statement.int64(at: 0), size = statement.int64(at: 1)
                guard offset >= 0, size > 0 else {
                    throw .chunksNotContiguous(catalog: label, pathHash: pathHash, reason: "chunk at offset \(offset) has size \(size)")
                }
                guard UInt64(offset) == end else {
                    throw .chunksNotContiguous(catalog: label, pathHash: pathHash, reason: "chunk at offset \(offset), expected \(end)")
                }
                let hash = statement.withBytes(at: 2) { ContentHash(algorithm: algorithm, digest: $0) }
                guard let hash else {
                    throw .corruptRow(catalog: label, rowID: nil, reason: "chunk hash of \(pathHash.hex) at offset \(offset) is not a 20-byte digest")
                }
                let (sum, overflow) = end.addingReportingOverflow(UInt64(size))
                guard !overflow else {
                    throw .chunksNotContiguous(catalog: label, pathHash: pathHash, reason: "sizes overflow")
                }
                end = sum
                list.append(FileChunk(offset: UInt64(offset), size: UInt64(size), hash: hash))
            }
            if let expectedSize, !list.isEmpty, end != expectedSize {
                throw .chunksNotContiguous(catalog: label, pathHash: pathHash, reason: "chunks cover \(end) bytes, file has \(expectedSize)")
            }
            return list
        }
    }

    /// The chunk list of a chunked entry; throws
    /// ``CatalogError/chunkListMissing(catalog:pathHash:)`` when it is empty,
    /// which upstream answers with EIO (docs/format/objects-and-chunks.md §4.2).
    public func chunks(of entry: DirectoryEntry) throws(CatalogError) -> [FileChunk] {
        let list = try chunks(of: entry.pathHash, algorithm: entry.hashAlgorithm, expectedSize: entry.size)
        if list.isEmpty && entry.isChunked { throw .chunkListMissing(catalog: label, pathHash: entry.pathHash) }
        return list
    }

    /// The rows of `nested_catalogs`, then those of `bind_mountpoints` (rev ≥ 4).
    public func nestedCatalogs() -> [NestedCatalogReference] { nestedReferences }

    /// The nested catalog or bind mount point mounted exactly at `path`.
    public func nestedCatalog(at path: String) -> NestedCatalogReference? {
        nestedByPath[path].map { nestedReferences[$0] }
    }

    /// The nested catalog whose mount point is a component-wise prefix of
    /// `path` (docs/format/catalogs.md §7.2); the mount point itself counts only when
    /// `includeExact`. At most one can match, as a catalog lists only its direct
    /// nested catalogs.
    public func nestedCatalog(containing path: String, includeExact: Bool) -> NestedCatalogReference? {
        if nestedReferences.isEmpty { return nil }
        if includeExact, let exact = nestedCatalog(at: path) { return exact }
        var index = path.utf8.endIndex
        while let slash = path.utf8[..<index].lastIndex(of: UInt8(ascii: "/")) {
            let prefix = String(path[..<slash])
            if let found = nestedCatalog(at: prefix) { return found }
            index = slash
        }
        return nil
    }
}
