import Synchronization
import CVMFSFormat

/// The catalogs of one revision: the root catalog, and nested catalogs
/// attached lazily, when a path below them is first used (docs/format/catalogs.md §7.2).
public final class CatalogTree: Sendable {
    public let root: MountedCatalog
    private let provider: any ObjectProvider
    /// Inode ranges, shared with the mount's other revisions.
    let inodeRanges: InodeRanges
    /// Profiled directories named by the attached catalogs, not started yet.
    public let profiledDirectories = ProfiledDirectories()
    /// Catalogs of every revision still referred to (`census`, shared by a mount's trees).
    let census: CatalogCensus

    /// A revision's tree. Later revisions of a mount share its `inodeRanges`
    /// and `census`, so inodes never clash and open catalogs are counted once.
    public init(rootHash: ContentHash, provider: any ObjectProvider,
                inodeRanges: InodeRanges = InodeRanges(), census: CatalogCensus = CatalogCensus()) throws(FileSystemError) {
        self.provider = provider
        self.inodeRanges = inodeRanges
        self.census = census
        let catalog = try Self.open(rootHash, provider: provider)
        let offset = inodeRanges.reserve(UInt64(max(0, catalog.maxRowID)))
        root = MountedCatalog(catalog: catalog, hash: rootHash, mountpoint: "", inodeOffset: offset,
                              provider: provider, census: census)
        profiledDirectories.register(catalog)
    }

    /// One past the largest inode handed out so far, over all revisions (`user.inode_max`).
    public var inodeLimit: UInt64 { inodeRanges.limit }

    /// The catalog that holds `path`'s entry (`includeExact: false`) or its
    /// children (`includeExact: true`), attaching nested catalogs on the way.
    public func catalog(for path: [UInt8], includeExact: Bool) throws(FileSystemError) -> MountedCatalog {
        var current = root
        // Most catalogs have no nested catalogs: skip building a String for them.
        guard !current.catalog.nestedCatalogs().isEmpty else { return current }
        let text = String(decoding: path, as: UTF8.self)
        while let reference = current.catalog.nestedCatalog(containing: text, includeExact: includeExact) {
            current = try attach(reference, below: current)
            if current.catalog.nestedCatalogs().isEmpty { break }
        }
        return current
    }

    /// Attaches a nested catalog once. The download runs without the parent's
    /// lock, so readers entering sibling catalogs fetch them at the same time;
    /// two readers of one catalog share its download through the cache.
    private func attach(_ reference: NestedCatalogReference, below parent: MountedCatalog) throws(FileSystemError) -> MountedCatalog {
        if let loaded = parent.children.withLock({ $0[reference.path] }) { return loaded }
        guard let hash = reference.hash else {
            throw .inconsistent("nested catalog at \(reference.path) has no hash in catalog \(parent.catalog.label)")
        }
        let catalog = try Self.open(hash, provider: provider)
        let (mounted, lostRace) = parent.children.withLock { children -> (MountedCatalog, Bool) in
            if let loaded = children[reference.path] { return (loaded, true) }
            let offset = inodeRanges.reserve(UInt64(max(0, catalog.maxRowID)))
            let mounted = MountedCatalog(catalog: catalog, hash: hash, mountpoint: reference.path, inodeOffset: offset,
                                         provider: provider, census: census)
            children[reference.path] = mounted
            profiledDirectories.register(catalog)
            return (mounted, false)
        }
        // The winner holds its pin until it is released; ours was a second pin.
        if lostRace { provider.unpin(hash) }
        return mounted
    }

    private static func open(_ hash: ContentHash, provider: any ObjectProvider) throws(FileSystemError) -> Catalog {
        let file = try provider.catalogFile(hash)
        do {
            return try Catalog(path: file, hash: hash)
        } catch {
            provider.unpin(hash)
            throw .catalog(error)
        }
    }

    /// Every attached catalog.
    public var attached: [MountedCatalog] { root.allAttached() }
}
