extension Catalog {
    /// Decodes the current row of a dirent query (column order of
    /// ``CatalogLayout/direntColumns``) and validates it.
    func decodeEntry(_ s: SQLiteStatement) throws(CatalogError) -> DirectoryEntry {
        let rowID = s.int64(at: 12)
        let rawFlags = s.int64(at: 5)
        let flags = EntryFlags(rawValue: rawFlags).intersection(flagMask)
        let pathHash = PathHash(high: s.int64(at: 8), low: s.int64(at: 9))

        let name = s.bytes(at: 6)
        if !Self.isValidName(name) && !(name.isEmpty && pathHash == rootPathHash) {
            throw .invalidEntryName(catalog: label, name: name, rowID: rowID)
        }

        let mode = s.int64(at: 3)
        guard mode >= 0 && mode <= Int64(UInt32.max) else {
            throw .corruptRow(catalog: label, rowID: rowID, reason: "mode \(mode) out of range")
        }
        // Decoding the hash fields only matters for rows that have a hash or
        // chunks; directories and symlinks carry zeros there (docs/format/catalogs.md §4).
        let algorithm = HashAlgorithm(catalogFlags: rawFlags & EntryFlags.hashAlgorithmField.rawValue)
        let compression = Compression(catalogFlags: flags.rawValue)
        guard let algorithm, let compression else {
            throw .corruptRow(catalog: label, rowID: rowID, reason: "unknown hash or compression bits in flags \(rawFlags)")
        }
        let hashLength = s.withBytes(at: 0) { $0.count }
        var contentHash: ContentHash?
        if hashLength != 0 {
            contentHash = s.withBytes(at: 0) { ContentHash(algorithm: algorithm, digest: $0) }
            if contentHash == nil {
                throw .corruptRow(catalog: label, rowID: rowID, reason: "hash of \(hashLength) bytes is not a 20-byte digest")
            }
        }
        let hardlinks = UInt64(bitPattern: s.int64(at: 1))
        let symlink = s.withBytes(at: 7) { $0.isEmpty ? [] : Array($0) }
        let nanoseconds: Int32?
        if s.isNull(at: 16) {
            nanoseconds = nil
        } else {
            let value = s.int64(at: 16)
            // Only 0..<1e9 is a valid nanosecond part; upstream ignores negative values.
            nanoseconds = value >= 0 && value < 1_000_000_000 ? Int32(value) : nil
        }
        return DirectoryEntry(
            name: name, mode: UInt32(mode), size: UInt64(bitPattern: s.int64(at: 2)),
            mtime: s.int64(at: 4), mtimeNanoseconds: nanoseconds,
            uid: UInt32(truncatingIfNeeded: s.int64(at: 13)), gid: UInt32(truncatingIfNeeded: s.int64(at: 14)),
            linkCount: UInt32(truncatingIfNeeded: hardlinks), hardlinkGroup: UInt32(truncatingIfNeeded: hardlinks >> 32),
            flags: flags, hashAlgorithm: algorithm, compression: compression, contentHash: contentHash,
            symlink: symlink, hasXattrs: s.int64(at: 15) != 0, rowID: rowID,
            pathHash: pathHash, parentHash: PathHash(high: s.int64(at: 10), low: s.int64(at: 11)))
    }

    /// Whether `name` is one safe path component: not empty, not `.` or `..`,
    /// no `/` and no NUL. A name that fails could make a path escape its
    /// directory, so it is refused rather than repaired.
    public static func isValidName(_ name: [UInt8]) -> Bool {
        if name.isEmpty { return false }
        if name == [0x2e] || name == [0x2e, 0x2e] { return false }
        return !name.contains(0x2f) && !name.contains(0)
    }
}
