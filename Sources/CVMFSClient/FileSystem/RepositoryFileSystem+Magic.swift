import CVMFSFormat

extension RepositoryFileSystem {
    /// Magic attributes that depend on the entry; mount-wide ones come from
    /// `MountStatus`. Names are given without the `user.` prefix.
    func magicAttribute(_ name: String, of record: InodeRecord) throws(FileSystemError) -> [UInt8]? {
        // Only the entry-specific names read the entry again from the catalog.
        func loadEntry() throws(FileSystemError) -> DirectoryEntry { try entry(of: record) }
        switch name {
        case "hash":
            guard record.isRegular, record.flags.contains(.hasContentHash),
                  let hash = try loadEntry().contentHash else { throw .noAttribute }
            return Array(hash.description.utf8)
        case "lhash":
            // The cache holds objects inflated, so for zlib objects this is
            // the hash of the plain bytes, not the object name.
            guard record.isRegular, record.flags.contains(.hasContentHash),
                  let hash = try loadEntry().contentHash else { throw .noAttribute }
            return Array((provider.cachedCopyHash(hash)?.description ?? "Not in cache").utf8)
        case "chunks":
            guard record.isRegular else { throw .noAttribute }
            let entry = try loadEntry()
            if entry.isChunked {
                let chunks = try countingIOErrors { () throws(FileSystemError) in
                    do throws(CatalogError) { return try record.catalog.catalog.chunks(of: entry) } catch { throw .catalog(error) }
                }
                return Array(String(chunks.count).utf8)
            }
            return Array("1".utf8)
        case "compression":
            guard record.isRegular else { throw .noAttribute }
            return Array(try loadEntry().compression.description.utf8)
        case "rawlink":
            guard record.isSymlink else { throw .noAttribute }
            return try loadEntry().symlinkBytes
        case "nclg":
            return Array(String(tree.attached.count).utf8)
        case "nopen":
            return Array(String(openCalls.load(ordering: .relaxed)).utf8)
        case "ndiropen":
            return Array(String(openDirectoryCalls.load(ordering: .relaxed)).utf8)
        case "useddirp":
            return Array(String(openDirectoryCount).utf8)
        case "inode_max":
            return Array(String(tree.inodeLimit).utf8)
        default:
            return status.magicAttribute(name)
        }
    }

    func magicAttributeNames(for record: InodeRecord) -> [String] {
        var names = status.magicAttributeNames + ["nclg", "inode_max", "nopen", "ndiropen", "useddirp"]
        if record.isRegular {
            names += ["chunks", "compression"]
            if record.flags.contains(.hasContentHash) { names += ["hash", "lhash"] }
        }
        if record.isSymlink { names.append("rawlink") }
        return names
    }
}
