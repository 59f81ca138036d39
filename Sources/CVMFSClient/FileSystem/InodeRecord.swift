import CVMFSFormat

/// What the file system remembers about an inode the kernel holds: what
/// lookups, getattr and readdir need, and no more (~100 bytes inline). The
/// full `DirectoryEntry` (content hash, chunks flag, raw symlink, ...) is
/// read again from `catalog` by `pathHash` when a file is opened or an
/// entry-specific extended attribute is asked for.
struct InodeRecord: Sendable {
    var path: [UInt8]
    var pathHash: PathHash
    var parent: UInt64
    var attributes: InodeAttributes
    /// The catalog that owns the entry's row (chunks and xattrs live there).
    var catalog: MountedCatalog
    /// The symlink target after variant expansion; empty for other types.
    var symlinkTarget: [UInt8]
    /// The kernel's lookup count (libfuse `nlookup`).
    var lookups: UInt64
    var flags: Flags

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
    var record: InodeRecord
}

/// The inodes the kernel holds: records packed in one array (a forgotten
/// record's slot is reused), found through a small inode → slot index.
/// A `[UInt64: InodeRecord]` kept every record inline in hash buckets at
/// most 3/4 full, and grown by doubling: ~330 bytes a record at 100k inodes
/// against ~130 here.
struct InodeTable {
    private var slots: [UInt64: UInt32] = [:]
    private var records: [InodeRecord?] = []
    private var freeSlots: [UInt32] = []

    var count: Int { slots.count }

    subscript(inode: UInt64) -> InodeRecord? {
        get {
            guard let slot = slots[inode] else { return nil }
            return records[Int(slot)]
        }
        set {
            if let slot = slots[inode] {
                records[Int(slot)] = newValue
                if newValue == nil {
                    slots[inode] = nil
                    freeSlots.append(slot)
                }
            } else if let newValue {
                if let slot = freeSlots.popLast() {
                    records[Int(slot)] = newValue
                    slots[inode] = slot
                } else {
                    slots[inode] = UInt32(records.count)
                    records.append(newValue)
                }
            }
        }
    }

    /// Every record with its inode, in no particular order.
    func forEach(_ body: (UInt64, InodeRecord) -> Void) {
        for (inode, slot) in slots {
            if let record = records[Int(slot)] { body(inode, record) }
        }
    }
}
