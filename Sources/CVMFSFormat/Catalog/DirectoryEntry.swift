/// One row of a catalog's `catalog` table, decoded (docs/format/catalogs.md §4, §5).
///
/// A plain value: lookups return it by value and it holds at most two small
/// heap arrays (the name, and the symlink target for symlinks). Names and
/// targets are kept as bytes because Linux names need not be UTF-8.
public struct DirectoryEntry: Hashable, Sendable {
    /// The last path component; empty only for a catalog's root entry.
    public var nameBytes: [UInt8]
    /// Full `st_mode`, type bits included.
    public var mode: UInt32
    /// File size; the device number for char/block devices; raw target length for symlinks.
    public var size: UInt64
    /// UNIX seconds.
    public var mtime: Int64
    /// Nanosecond part of the mtime; `nil` when unknown (rev < 7, NULL, or negative).
    public var mtimeNanoseconds: Int32?
    public var uid: UInt32
    public var gid: UInt32
    /// Link count (`st_nlink`): low 32 bits of `hardlinks`.
    public var linkCount: UInt32
    /// Hardlink group id (0 = none; unique within one catalog): high 32 bits of `hardlinks`.
    public var hardlinkGroup: UInt32
    /// The stored flag bits, with bits that the catalog's revision cannot have set masked off.
    public var flags: EntryFlags
    /// Algorithm of the content hash and of the chunk hashes.
    public var hashAlgorithm: HashAlgorithm
    /// How the content (or each chunk) is stored; always zlib below revision 3.
    public var compression: Compression
    /// Hash of the stored object; `nil` for directories, symlinks, specials and
    /// chunked files without a bulk object.
    public var contentHash: ContentHash?
    /// Raw symlink target as published (before `$(VAR)` expansion); empty otherwise.
    public var symlinkBytes: [UInt8]
    /// The row's `xattr` column is not NULL; read the list with ``Catalog/xattrs(of:)``.
    public var hasXattrs: Bool
    /// SQLite rowid, the basis of inode numbers (docs/format/catalogs.md §10). 0 for entries not read from a catalog.
    public var rowID: Int64
    /// MD5 of the full path (the value the catalog was queried with).
    public var pathHash: PathHash
    /// MD5 of the parent path; ``PathHash/null`` for the repository root.
    public var parentHash: PathHash

    /// Builds an entry, e.g. for ``CatalogWriter``, which ignores `rowID`,
    /// `pathHash`, `parentHash` and `hasXattrs` and derives the type bits from `mode`.
    public init(
        name: [UInt8], mode: UInt32, size: UInt64 = 0, mtime: Int64 = 0, mtimeNanoseconds: Int32? = nil,
        uid: UInt32 = 0, gid: UInt32 = 0, linkCount: UInt32 = 1, hardlinkGroup: UInt32 = 0,
        flags: EntryFlags = [], hashAlgorithm: HashAlgorithm = .sha1, compression: Compression = .zlib,
        contentHash: ContentHash? = nil, symlink: [UInt8] = [], hasXattrs: Bool = false,
        rowID: Int64 = 0, pathHash: PathHash = .null, parentHash: PathHash = .null
    ) {
        self.nameBytes = name
        self.mode = mode
        self.size = size
        self.mtime = mtime
        self.mtimeNanoseconds = mtimeNanoseconds
        self.uid = uid
        self.gid = gid
        self.linkCount = linkCount
        self.hardlinkGroup = hardlinkGroup
        self.flags = flags
        self.hashAlgorithm = hashAlgorithm
        self.compression = compression
        self.contentHash = contentHash
        self.symlinkBytes = symlink
        self.hasXattrs = hasXattrs
        self.rowID = rowID
        self.pathHash = pathHash
        self.parentHash = parentHash
    }
}

extension DirectoryEntry {
    /// `S_IFMT` and the type values of `<sys/stat.h>`, spelled out so the
    /// format layer does not depend on Glibc.
    static let typeMask: UInt32 = 0o170000
    static let typeDirectory: UInt32 = 0o040000
    static let typeRegular: UInt32 = 0o100000
    static let typeSymlink: UInt32 = 0o120000

    /// The name as a String (invalid UTF-8 repaired; use ``nameBytes`` for exactness).
    public var name: String { String(decoding: nameBytes, as: UTF8.self) }
    /// The raw symlink target as a String.
    public var symlink: String { String(decoding: symlinkBytes, as: UTF8.self) }

    public var isDirectory: Bool { mode & Self.typeMask == Self.typeDirectory }
    public var isRegular: Bool { mode & Self.typeMask == Self.typeRegular }
    public var isSymlink: Bool { mode & Self.typeMask == Self.typeSymlink }
    /// Fifo, socket, char or block device.
    public var isSpecial: Bool { !isDirectory && !isRegular && !isSymlink }

    /// Mount point of a nested catalog (this copy lives in the parent catalog).
    public var isNestedMountpoint: Bool { flags.contains(.nestedMountpoint) }
    /// Root of a nested catalog (this copy lives in the child catalog).
    public var isNestedRoot: Bool { flags.contains(.nestedRoot) }
    public var isChunked: Bool { flags.contains(.chunked) }
    public var isExternal: Bool { flags.contains(.external) }
    public var isBindMountpoint: Bool { flags.contains(.bindMountpoint) }
    public var isHidden: Bool { flags.contains(.hidden) }
    public var isDirectIO: Bool { flags.contains(.directIO) }
}
