extension CatalogWriter {
    /// Adds the entry at full repository path `path` (`""` for the repository root).
    ///
    /// The flags are derived, not copied: the type bits come from `entry.mode`,
    /// the hash and compression fields from `entry.hashAlgorithm` and
    /// `entry.compression` (regular files with a hash or chunks only), the
    /// chunked bit from `chunks`, and only the markers in
    /// ``EntryFlags/callerMarkers`` are taken from `entry.flags`.
    /// `hardlinks` is `hardlinkGroup << 32 | linkCount`; a symlink's size is its
    /// raw target length; directories, symlinks and specials get a NULL hash.
    public func add(path: String, entry: DirectoryEntry, xattrs: XattrList? = nil, chunks: [FileChunk] = []) throws(CatalogError) {
        let (parentPath, name) = try split(path)
        if !wroteRoot {
            guard path == rootPrefix else {
                throw .writerMisuse(catalog: self.path, reason: "the first entry must be the catalog root \"\(rootPrefix)\", not \"\(path)\"")
            }
            wroteRoot = true
        }
        let pathHash = PathHash(path: path)
        // The repository root has a null parent (docs/format/catalogs.md §3).
        let parentHash = path.isEmpty ? PathHash.null : PathHash(path: String(parentPath))
        if let previous = lastChild[parentHash], !previous.lexicographicallyPrecedes(name) {
            throw .invalidPath(catalog: self.path, path: path, reason: "siblings must be added in ascending name order")
        }
        if !path.isEmpty { lastChild[parentHash] = name }

        let stored = try storedFields(of: entry, chunks: chunks, path: path)
        let xattrBlob = (xattrs?.isEmpty ?? true) ? nil : xattrs?.serialized()
        count(entry, flags: stored.flags, chunks: chunks, hasXattrs: xattrBlob != nil)
        try run(insertEntry, "inserting \(path)") { s in
            s.bind(pathHash.high, at: 1)
            s.bind(pathHash.low, at: 2)
            s.bind(parentHash.high, at: 3)
            s.bind(parentHash.low, at: 4)
            s.bind(Int64(bitPattern: UInt64(entry.hardlinkGroup) << 32 | UInt64(entry.linkCount)), at: 5)
            if let hash = stored.hash { hash.withDigest { s.bind(blob: $0, at: 6) } } else { s.bindNull(at: 6) }
            s.bind(Int64(bitPattern: stored.size), at: 7)
            s.bind(Int64(entry.mode), at: 8)
            s.bind(entry.mtime, at: 9)
            if let ns = entry.mtimeNanoseconds { s.bind(Int64(ns), at: 10) } else { s.bindNull(at: 10) }
            s.bind(stored.flags.rawValue, at: 11)
            s.bind(textBytes: name, at: 12)
            s.bind(textBytes: entry.symlinkBytes, at: 13)
            s.bind(Int64(entry.uid), at: 14)
            s.bind(Int64(entry.gid), at: 15)
            if let xattrBlob { xattrBlob.withUnsafeBytes { s.bind(blob: $0, at: 16) } } else { s.bindNull(at: 16) }
        }
        for chunk in chunks {
            try run(insertChunk, "inserting a chunk of \(path)") { s in
                s.bind(pathHash.high, at: 1)
                s.bind(pathHash.low, at: 2)
                s.bind(Int64(bitPattern: chunk.offset), at: 3)
                s.bind(Int64(bitPattern: chunk.size), at: 4)
                chunk.hash.withDigest { s.bind(blob: $0, at: 5) }
            }
        }
    }

    /// The flags, hash and size the row stores, derived as ``add(path:entry:xattrs:chunks:)`` describes.
    private func storedFields(of entry: DirectoryEntry, chunks: [FileChunk],
                              path: String) throws(CatalogError) -> (flags: EntryFlags, hash: ContentHash?, size: UInt64) {
        var flags = entry.flags.intersection(EntryFlags.callerMarkers)
        var hash = entry.contentHash
        var size = entry.size
        if entry.isDirectory {
            flags.insert(.directory)
            hash = nil
        } else if entry.isRegular {
            flags.insert(.file)
            if !chunks.isEmpty {
                flags.insert(.chunked)
                try checkContiguous(chunks, size: entry.size, path: path)
            }
            if hash != nil || !chunks.isEmpty {
                flags.formUnion(EntryFlags(rawValue: entry.hashAlgorithm.catalogFlagBits | entry.compression.catalogFlagBits))
            }
        } else if entry.isSymlink {
            flags.formUnion([.file, .link])
            hash = nil
            size = UInt64(entry.symlinkBytes.count)
        } else {
            flags.formUnion([.file, .special])
            hash = nil
        }
        if !entry.isRegular { flags.subtract([.external, .directIO]) }
        return (flags, hash, size)
    }

    /// Adds the entry to the `self_*` counters.
    private func count(_ entry: DirectoryEntry, flags: EntryFlags, chunks: [FileChunk], hasXattrs: Bool) {
        if entry.isRegular {
            own.regular += 1
            own.fileSize += Int64(bitPattern: entry.size)
            if !chunks.isEmpty {
                own.chunked += 1
                own.chunkedSize += Int64(bitPattern: entry.size)
                own.chunks += Int64(chunks.count)
            }
            if flags.contains(.external) {
                own.external += 1
                own.externalFileSize += Int64(bitPattern: entry.size)
            }
        }
        if entry.isDirectory { own.dir += 1 } else if entry.isSymlink { own.symlink += 1 } else if entry.isSpecial { own.special += 1 }
        if hasXattrs { own.xattr += 1 }
    }

    /// Records a nested catalog mounted at `path` (its mount point entry must
    /// carry ``EntryFlags/nestedMountpoint``). `size` is the uncompressed size.
    public func addNestedCatalog(path: String, hash: ContentHash, size: UInt64) throws(CatalogError) {
        try run(insertNested, "inserting nested catalog \(path)") { s in
            s.bind(text: path, at: 1)
            s.bind(text: hash.description, at: 2)
            s.bind(Int64(bitPattern: size), at: 3)
        }
        own.nested += 1
    }

    /// Records a root catalog bound at `path` (rev ≥ 4, `/.cvmfs/snapshots/<tag>`).
    /// Bind mount points are not counted in `self_nested`.
    public func addBindMountpoint(path: String, hash: ContentHash, size: UInt64) throws(CatalogError) {
        try run(insertBind, "inserting bind mount point \(path)") { s in
            s.bind(text: path, at: 1)
            s.bind(text: hash.description, at: 2)
            s.bind(Int64(bitPattern: size), at: 3)
        }
    }

    /// The `self_*` counters of the rows written so far.
    public var ownCounters: CatalogCounters { own }

    /// Writes the statistics (`self_*` from the rows inserted, `subtree_*` as
    /// given: the sum of the children's self + subtree counters), commits and
    /// closes the file. Returns what was written.
    @discardableResult
    public func finish(subtree: CatalogCounters = CatalogCounters()) throws(CatalogError) -> CatalogStatistics {
        guard wroteRoot else { throw .writerMisuse(catalog: path, reason: "no root entry was added") }
        let insertCounter: SQLiteStatement
        do {
            insertCounter = try database.prepare("INSERT INTO statistics (counter, value) VALUES (?,?)")
        } catch {
            throw .sqlite(error, catalog: path, operation: "preparing statistics")
        }
        for field in CatalogCounters.fields {
            for (prefix, counters) in [("self_", own), ("subtree_", subtree)] {
                try run(insertCounter, "writing counter \(prefix)\(field.name)") { s in
                    s.bind(text: prefix + field.name, at: 1)
                    s.bind(counters[keyPath: field.keyPath], at: 2)
                }
            }
        }
        do {
            try database.execute("COMMIT")
        } catch {
            throw .sqlite(error, catalog: path, operation: "commit")
        }
        finished = true
        return CatalogStatistics(own: own, subtree: subtree)
    }

    /// Splits a full path into parent path and name, checking the name.
    func split(_ path: String) throws(CatalogError) -> (parent: Substring, name: [UInt8]) {
        if path.isEmpty { return ("", []) }
        guard path.utf8.first == UInt8(ascii: "/"), path.utf8.last != UInt8(ascii: "/"),
              let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else {
            throw .invalidPath(catalog: self.path, path: path, reason: "not an absolute path without trailing slash")
        }
        let name = Array(path.utf8[path.utf8.index(after: slash)...])
        guard Catalog.isValidName(name) else {
            throw .invalidPath(catalog: self.path, path: path, reason: "invalid name \(CatalogError.quoted(name))")
        }
        return (path[..<slash], name)
    }

    /// Chunks must start at 0, touch each other and cover the whole file.
    func checkContiguous(_ chunks: [FileChunk], size: UInt64, path: String) throws(CatalogError) {
        var end: UInt64 = 0
        for chunk in chunks {
            guard chunk.offset == end, chunk.size > 0 else {
                throw .invalidPath(catalog: self.path, path: path, reason: "chunk at \(chunk.offset) does not follow \(end)")
            }
            end += chunk.size
        }
        guard end == size else {
            throw .invalidPath(catalog: self.path, path: path, reason: "chunks cover \(end) of \(size) bytes")
        }
    }
}
