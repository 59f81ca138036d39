import CVMFSFormat

/// What the file system remembers about an inode the kernel holds.
struct InodeRecord: Sendable {
    var path: [UInt8]
    var pathHash: PathHash
    var parent: UInt64
    var attributes: InodeAttributes
    /// The catalog that owns the entry's row (chunks and xattrs live there).
    var catalog: MountedCatalog
    var entry: DirectoryEntry
    /// The symlink target after variant expansion.
    var symlinkTarget: [UInt8]
    /// The kernel's lookup count (libfuse `nlookup`).
    var lookups: UInt64
}

/// One entry of a directory listing built at `opendir`.
struct ListingEntry: Sendable {
    var name: [UInt8]
    var record: InodeRecord
}
