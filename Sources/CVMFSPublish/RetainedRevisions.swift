import Glibc
import CVMFSFormat

/// Which revisions of a repository folder garbage collection keeps, and
/// every object they need.
///
/// Kept: the manifest's revision; older revisions, followed through each
/// root catalog's `previous_revision`, while fewer than `keepRevisions` are
/// kept or while they were published at or after `keepNewerThan`; every
/// revision a tag of the history names (`trunk-previous` and named tags);
/// and the manifest's certificate, history and meta info. The walk stops at
/// the first root catalog the folder does not hold (a replica starts later
/// than its source, and earlier collections removed older ones).
public struct RetainedRevisions {
    public struct Policy: Sendable, Equatable {
        /// How many of the newest revisions to keep, the current one included.
        public var keepRevisions: Int
        /// UNIX seconds: also keep revisions published at or after this.
        public var keepNewerThan: Int64?

        public init(keepRevisions: Int, keepNewerThan: Int64? = nil) {
            self.keepRevisions = keepRevisions
            self.keepNewerThan = keepNewerThan
        }
    }

    /// Root catalogs kept, with their revision numbers.
    public private(set) var rootCatalogs: [(hash: ContentHash, revision: UInt64)] = []
    /// Repository-relative paths of every kept object (`data/xx/…` with suffix).
    public private(set) var objectPaths = Set<String>()
    /// The history database the manifest names, if any.
    public private(set) var history: ContentHash?
    public private(set) var certificate: ContentHash?

    /// Reads `manifest`'s revision chain and tags in `folder` and marks what they need.
    public init(folder: String, manifest: Manifest, policy: Policy) throws(PublishError) {
        let source = FolderSource(root: folder)
        let scratch = try ScratchFolder.inOutput(folder + "/data/txn")
        certificate = manifest.certificate
        history = manifest.history
        for (hash, suffix) in [(manifest.certificate, ObjectSuffix.certificate), (manifest.history, .history), (manifest.metainfo, .metainfo)] {
            if let hash { objectPaths.insert(hash.objectPath(suffix: suffix)) }
        }

        var keptRoots = Set<ContentHash>()
        var next: ContentHash? = manifest.rootCatalog
        while let hash = next, !keptRoots.contains(hash), access(folder + "/" + hash.objectPath(suffix: .catalog), F_OK) == 0 {
            let catalog = try scratch.openCatalog(hash, from: source)
            let isCurrent = keptRoots.isEmpty
            let withinCount = rootCatalogs.count < policy.keepRevisions
            let withinDate = policy.keepNewerThan.map { (catalog.lastModified ?? 0) >= $0 } ?? false
            guard isCurrent || withinCount || withinDate else { break }
            keptRoots.insert(hash)
            rootCatalogs.append((hash, catalog.revision))
            try mark(catalog, hash: hash, scratch: scratch, source: source)
            next = catalog.previousRevision
        }
        if let historyHash = manifest.history {
            for tag in try Self.tags(historyHash, scratch: scratch, folder: folder) where !keptRoots.contains(tag.rootCatalog) {
                guard access(folder + "/" + tag.rootCatalog.objectPath(suffix: .catalog), F_OK) == 0 else { continue }
                keptRoots.insert(tag.rootCatalog)
                rootCatalogs.append((tag.rootCatalog, tag.revision))
                try mark(try scratch.openCatalog(tag.rootCatalog, from: source), hash: tag.rootCatalog, scratch: scratch, source: source)
            }
        }
    }

    /// Marks a catalog, its objects and its nested catalogs; a nested catalog
    /// already marked (shared between revisions) is not read again. Nested
    /// catalogs are opened one at a time and their scratch copies unlinked once
    /// read, so a revision with thousands of them needs neither thousands of
    /// descriptors nor their inflated size on disk.
    private mutating func mark(_ root: Catalog, hash: ContentHash, scratch: ScratchFolder, source: FolderSource) throws(PublishError) {
        var pending: [ContentHash] = []
        var next: (Catalog, ContentHash)? = (root, hash)
        while let (catalog, catalogHash) = next {
            objectPaths.insert(catalogHash.objectPath(suffix: .catalog))
            do {
                for object in try catalog.referencedObjects() { objectPaths.insert(object.hash.objectPath(suffix: object.suffix)) }
            } catch {
                throw .existingRepository(path: source.root, reason: "catalog \(catalogHash): \(error)")
            }
            for reference in catalog.nestedCatalogs() where !reference.isBindMountpoint {
                guard let nested = reference.hash, !objectPaths.contains(nested.objectPath(suffix: .catalog)) else { continue }
                objectPaths.insert(nested.objectPath(suffix: .catalog))
                pending.append(nested)
            }
            unlink(catalog.path)
            next = try pending.popLast().map { nested throws(PublishError) in (try scratch.openCatalog(nested, from: source), nested) }
        }
    }

    static func tags(_ history: ContentHash, scratch: ScratchFolder, folder: String) throws(PublishError) -> [RepositoryTag] {
        let file = try scratch.inflateObject(history, suffix: .history, of: FolderSource(root: folder), as: "tags")
        do { return try HistoryDatabase.open(path: file, writable: false).tags() } catch {
            throw .existingRepository(path: folder, reason: "history \(history.objectPath(suffix: .history)): \(error)")
        }
    }
}
