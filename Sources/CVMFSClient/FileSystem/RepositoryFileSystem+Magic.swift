import CVMFSFormat

extension RepositoryFileSystem {
    /// Magic attributes that depend on the entry; mount-wide ones come from
    /// `MountStatus`. Names are given without the `user.` prefix.
    func magicAttribute(_ name: String, of record: InodeRecord) throws(FileSystemError) -> [UInt8]? {
        let entry = record.entry
        switch name {
        case "hash":
            guard entry.isRegular, let hash = entry.contentHash else { throw .noAttribute }
            return Array(hash.description.utf8)
        case "lhash":
            // The cache holds objects inflated, so for zlib objects this is
            // the hash of the plain bytes, not the object name.
            guard entry.isRegular, let hash = entry.contentHash else { throw .noAttribute }
            return Array((provider.cachedCopyHash(hash)?.description ?? "Not in cache").utf8)
        case "chunks":
            guard entry.isRegular else { throw .noAttribute }
            if entry.isChunked {
                let chunks = try countingIOErrors { () throws(FileSystemError) in
                    do { return try record.catalog.catalog.chunks(of: entry) } catch { throw .io("\(error)") }
                }
                return Array(String(chunks.count).utf8)
            }
            return Array("1".utf8)
        case "compression":
            guard entry.isRegular else { throw .noAttribute }
            return Array(entry.compression.description.utf8)
        case "rawlink":
            guard entry.isSymlink else { throw .noAttribute }
            return entry.symlinkBytes
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
        if record.entry.isRegular {
            names += ["chunks", "compression"]
            if record.entry.contentHash != nil { names += ["hash", "lhash"] }
        }
        if record.entry.isSymlink { names.append("rawlink") }
        return names
    }
}
