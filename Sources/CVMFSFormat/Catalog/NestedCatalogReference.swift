/// A row of `nested_catalogs` or `bind_mountpoints` (docs/format/catalogs.md §2, §7).
public struct NestedCatalogReference: Hashable, Sendable {
    /// Full repository path of the mount point, e.g. `/sw/gcc`.
    public var path: String
    /// The nested catalog's hash (suffix `C` implied); `nil` when the `sha1`
    /// column is empty or unreadable, which means "cannot mount" (EIO).
    public var hash: ContentHash?
    /// Uncompressed catalog size in bytes; 0 when the catalog predates the column.
    public var size: UInt64
    /// `true` for a row of `bind_mountpoints` (another root catalog bound here).
    public var isBindMountpoint: Bool

    public init(path: String, hash: ContentHash?, size: UInt64, isBindMountpoint: Bool = false) {
        self.path = path
        self.hash = hash
        self.size = size
        self.isBindMountpoint = isBindMountpoint
    }
}
