extension RepositoryReader {
    /// An entry found in the tree, with the catalog that holds its row.
    public struct Located {
        public var path: String
        public var entry: DirectoryEntry
        public var catalog: Catalog
    }

    /// The catalog that holds `path`'s row (`includeExact: false`) or its
    /// children (`includeExact: true`), descending nested catalogs.
    public func catalog(for path: String, includeExact: Bool) throws(RepositoryError) -> Catalog {
        var current = try rootCatalog
        while let reference = current.nestedCatalog(containing: path, includeExact: includeExact) {
            guard let hash = reference.hash else {
                throw .unavailable(path: reference.path, reason: "nested catalog reference without a hash in \(current.label)")
            }
            current = try catalog(hash)
        }
        return current
    }

    /// Looks up one path ("" is the root; otherwise "/a/b").
    public func lookup(_ path: String) throws(RepositoryError) -> Located {
        let normalized = Self.normalize(path)
        let catalog = try catalog(for: normalized, includeExact: false)
        let entry: DirectoryEntry?
        do { entry = try catalog.lookup(PathHash(path: normalized)) } catch { throw .catalog(error) }
        guard let entry else { throw .notFound(path: normalized.isEmpty ? "/" : normalized) }
        return Located(path: normalized, entry: entry, catalog: catalog)
    }

    /// The entries of a directory, in catalog order.
    public func list(_ path: String) throws(RepositoryError) -> [Located] {
        let normalized = Self.normalize(path)
        let catalog = try catalog(for: normalized, includeExact: true)
        do {
            return try catalog.children(of: PathHash(path: normalized)).map {
                Located(path: normalized + "/" + $0.name, entry: $0, catalog: catalog)
            }
        } catch {
            throw .catalog(error)
        }
    }

    /// Visits every entry below `path` depth first, parents before children.
    public func walk(_ path: String = "", _ visit: (Located) throws(RepositoryError) -> Void) throws(RepositoryError) {
        var pending = [Self.normalize(path)]
        while let directory = pending.popLast() {
            let children = try list(directory)
            for child in children {
                try visit(child)
                if child.entry.isDirectory { pending.append(child.path) }
            }
        }
    }

    /// Streams a regular file's content, whole object or chunk by chunk,
    /// each verified against its hash.
    public func readFile(_ located: Located, into body: (UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError) {
        let entry = located.entry
        guard entry.isRegular else { throw .notARegularFile(path: located.path) }
        if entry.isChunked {
            let chunks: [FileChunk]
            do { chunks = try located.catalog.chunks(of: entry) } catch { throw .catalog(error) }
            for chunk in chunks {
                try streamObject(chunk.hash, suffix: .partial, compression: entry.compression, expectedSize: chunk.size, into: body)
            }
        } else if let hash = entry.contentHash {
            try streamObject(hash, suffix: .none, compression: entry.compression, expectedSize: entry.size, into: body)
        } else if entry.size != 0 {
            throw .unavailable(path: located.path, reason: "regular file without a content hash")
        }
    }

    /// "/a/b/" and "a/b" become "/a/b"; "/" and "" become "".
    static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return parts.isEmpty ? "" : "/" + parts.joined(separator: "/")
    }
}
