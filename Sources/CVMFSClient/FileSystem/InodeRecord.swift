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

/// A directory listing built at `opendir`, kept until `releasedir`: the
/// entries with their attributes and records, their names packed in one
/// buffer (one allocation per listing, not one per entry).
struct Listing: Sendable {
    struct Entry: Sendable {
        var nameStart: UInt32
        var nameCount: UInt16
        var attributes: InodeAttributes
        var record: InodeRecord
    }

    private(set) var entries: [Entry] = []
    private var names: [UInt8] = []

    mutating func append(name: [UInt8], attributes: InodeAttributes, record: InodeRecord) {
        let count = UInt16(clamping: name.count)
        entries.append(Entry(nameStart: UInt32(names.count), nameCount: count, attributes: attributes, record: record))
        names.append(contentsOf: name.prefix(Int(count)))
    }

    /// Calls `body` with the entry's name bytes.
    func withName<R>(of entry: Entry, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        names.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[Int(entry.nameStart)..<Int(entry.nameStart) + Int(entry.nameCount)]))
        }
    }
}
