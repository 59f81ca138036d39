/// The `flags` column of a catalog row (docs/format/catalogs.md §4). The file type is taken
/// from `mode`, never from these bits; the hash-algorithm and compression fields
/// (bits 8–13) are decoded separately into ``DirectoryEntry``.
public struct EntryFlags: OptionSet, Hashable, Sendable {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// `kFlagDir`.
    public static let directory = EntryFlags(rawValue: 1)
    /// `kFlagDirNestedMountpoint`: the mount point copy, in the parent catalog.
    public static let nestedMountpoint = EntryFlags(rawValue: 2)
    /// `kFlagFile`: any non-directory.
    public static let file = EntryFlags(rawValue: 4)
    /// `kFlagLink`: symlink (stored together with ``file``).
    public static let link = EntryFlags(rawValue: 8)
    /// `kFlagFileSpecial`: fifo, socket or device (rev ≥ 5, stored together with ``file``).
    public static let special = EntryFlags(rawValue: 16)
    /// `kFlagDirNestedRoot`: the root entry copy, in the child catalog.
    public static let nestedRoot = EntryFlags(rawValue: 32)
    /// `kFlagFileChunk`: data lives in the `chunks` table.
    public static let chunked = EntryFlags(rawValue: 64)
    /// `kFlagFileExternal`: data lives outside the repository (rev ≥ 3).
    public static let external = EntryFlags(rawValue: 128)
    /// `kFlagDirBindMountpoint`: another root catalog is bound here (rev ≥ 4).
    public static let bindMountpoint = EntryFlags(rawValue: 0x4000)
    /// `kFlagHidden`: left out of listings, still found by lookup (rev ≥ 4).
    public static let hidden = EntryFlags(rawValue: 0x8000)
    /// `kFlagDirectIo`: open with FUSE `direct_io` (rev ≥ 6).
    public static let directIO = EntryFlags(rawValue: 0x10000)

    /// Bits 8–10: content-hash algorithm minus 1.
    public static let hashAlgorithmField = EntryFlags(rawValue: 0x700)
    /// Bits 11–13: compression algorithm.
    public static let compressionField = EntryFlags(rawValue: 0x3800)

    /// The marker bits a writer takes from its caller; type, hash and
    /// compression bits are derived from the entry itself.
    public static let callerMarkers: EntryFlags = [
        .nestedMountpoint, .nestedRoot, .external, .bindMountpoint, .hidden, .directIO,
    ]
}
