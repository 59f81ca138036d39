extension Catalog {
    /// Every content object this catalog's rows need, in one pass over the
    /// tables rather than a directory walk: the object of each regular file
    /// that is neither chunked nor external, and each chunk (suffix `P`) of
    /// chunked files. Nested catalogs are not included (see
    /// ``nestedCatalogs()``). Replication and garbage collection use it.
    public func referencedObjects() throws(CatalogError) -> [(hash: ContentHash, suffix: ObjectSuffix)] {
        let label = self.label
        let file = EntryFlags.file.rawValue, link = EntryFlags.link.rawValue
        let skipped = EntryFlags.chunked.rawValue | EntryFlags.external.rawValue
        return try state.withLock { cache throws(CatalogError) in
            let database = cache.database
            var objects: [(hash: ContentHash, suffix: ObjectSuffix)] = []
            func collect(_ sql: String, suffix: ObjectSuffix) throws(CatalogError) {
                var rows: [(flags: Int64, digest: [UInt8])] = []
                do throws(SQLiteError) {
                    let statement = try database.prepare(sql)
                    while try statement.step() { rows.append((statement.int64(at: 1), statement.bytes(at: 0))) }
                } catch {
                    throw .sqlite(error, catalog: label, operation: "listing referenced objects")
                }
                for row in rows {
                    guard let algorithm = HashAlgorithm(catalogFlags: row.flags & EntryFlags.hashAlgorithmField.rawValue) else {
                        throw .corruptRow(catalog: label, rowID: nil, reason: "unknown hash bits in flags \(row.flags)")
                    }
                    guard let hash = ContentHash(algorithm: algorithm, digest: row.digest) else {
                        throw .corruptRow(catalog: label, rowID: nil, reason: "a content hash is not a digest of \(algorithm)")
                    }
                    objects.append((hash, suffix))
                }
            }
            try collect("SELECT hash, flags FROM catalog WHERE length(hash) > 0 AND (flags & \(file)) != 0 AND (flags & \(link)) = 0 AND (flags & \(skipped)) = 0", suffix: .none)
            let hasChunks: Bool
            do throws(SQLiteError) { hasChunks = try database.tableExists("chunks") } catch { throw .sqlite(error, catalog: label, operation: "listing referenced objects") }
            if hasChunks {
                try collect("SELECT c.hash, e.flags FROM chunks c JOIN catalog e ON c.md5path_1 = e.md5path_1 AND c.md5path_2 = e.md5path_2 WHERE (e.flags & \(EntryFlags.external.rawValue)) = 0", suffix: .partial)
            }
            return objects
        }
    }
}
