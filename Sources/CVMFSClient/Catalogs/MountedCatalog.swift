import Synchronization
import CVMFSFormat

/// A catalog attached to the tree at its mount point, with the inode range
/// it was given when attached (docs/format/catalogs.md §10).
///
/// It holds the pin on its cache file and the SQLite connection for as long
/// as anything refers to it: its tree while that is the mounted revision, and
/// after a switch the inodes the kernel still holds, open listings and open
/// files of the old revision. The last of them to go unpins the file, so old
/// revisions' catalogs do not pile up over weeks of publishing.
public final class MountedCatalog: Sendable {
    public let catalog: Catalog
    public let hash: ContentHash
    /// Repository path where the catalog is attached: "" for the root catalog.
    public let mountpoint: String
    /// Added to a row's rowid to make its inode.
    public let inodeOffset: UInt64
    /// The first inode handed out for each hardlink group (groups are per catalog).
    private let hardlinkInodes = Mutex<[UInt32: UInt64]>([:])
    /// Nested catalogs attached below this one, by mount point.
    let children = Mutex<[String: MountedCatalog]>([:])
    private let provider: any ObjectProvider
    private let census: CatalogCensus

    /// Takes over the pin `provider.catalogFile(hash)` took.
    init(catalog: Catalog, hash: ContentHash, mountpoint: String, inodeOffset: UInt64,
         provider: any ObjectProvider, census: CatalogCensus) {
        self.catalog = catalog
        self.hash = hash
        self.mountpoint = mountpoint
        self.inodeOffset = inodeOffset
        self.provider = provider
        self.census = census
        census.opened()
    }

    deinit {
        provider.unpin(hash)
        census.closed()
    }

    /// The inode of an entry of this catalog. Members of a hardlink group
    /// share the inode of the first member asked for.
    func inode(of entry: DirectoryEntry) -> UInt64 {
        let own = UInt64(entry.rowID) &+ inodeOffset
        guard entry.hardlinkGroup != 0 else { return own }
        return hardlinkInodes.withLock { map in
            if let existing = map[entry.hardlinkGroup] { return existing }
            map[entry.hardlinkGroup] = own
            return own
        }
    }

    /// Attached nested catalogs, depth first (for `talk open catalogs` and statfs).
    func allAttached() -> [MountedCatalog] {
        var result = [self]
        for child in children.withLock({ Array($0.values) }) {
            result.append(contentsOf: child.allAttached())
        }
        return result
    }
}
