import CVMFSFormat

/// One row a publish puts into a catalog, before it meets SQLite.
struct CatalogRow {
    var repositoryPath: String
    /// `nil` only for the root entry of the root catalog, whose parent hash is null.
    var parentPath: String?
    var entry: SourceEntry
    var linkCount: UInt32
    var hardlinkGroup: UInt32
    var content: FileContent?
    var isNestedMountpoint = false
    var isNestedRoot = false
}

/// A nested catalog as its parent references it.
struct NestedCatalogLink {
    var path: String
    var hash: ContentHash
    var size: Int64
    var subtreeStatistics: CatalogStatistics
}
