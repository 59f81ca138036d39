import CVMFSFormat

/// What the file system keeps about an inode the kernel holds: where its
/// catalog row is (`catalog`, `pathHash`) and where it hangs in the tree
/// (`parent`, and a name kept by the table). Attributes, symlink targets,
/// content hashes and paths are not kept: they are read again from the row
/// or rebuilt from the parent chain when asked for (getattr after the
/// kernel's timeout, readlink, open, opendir), so a walk that leaves 100k
/// inodes in the kernel costs about 60 bytes each (`InodeTable`).
struct InodeRecord: Sendable {
    var parent: UInt64
    var pathHash: PathHash
    /// The catalog that owns the entry's row.
    var catalog: MountedCatalog
    var flags: Flags
    /// The file type bits of the mode (`S_IFMT >> 12`).
    var type: UInt8

    var isDirectory: Bool { type == 0o04 }
    var isRegular: Bool { type == 0o10 }
    var isSymlink: Bool { type == 0o12 }

    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        /// Catalog flag 0x10000: open with direct I/O, no kernel page cache.
        static let directIO = Flags(rawValue: 1)
        static let hasXattrs = Flags(rawValue: 2)
        static let hasContentHash = Flags(rawValue: 4)
    }
}

/// One entry of a directory listing built at `opendir`.
struct ListingEntry: Sendable {
    var name: [UInt8]
    var attributes: InodeAttributes
    var record: InodeRecord
}
