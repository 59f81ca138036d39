import Glibc
import CVMFSFormat

/// Writes the catalogs of one revision bottom-up (a parent needs its nested
/// catalogs' hashes), compresses each into a `C` object, and keeps a nested
/// catalog of the previous revision whose content did not change.
final class CatalogEmitter {
    /// Catalog property holding a digest of the rows and nested references:
    /// equal digests mean the catalog can be reused as it is. Upstream
    /// clients ignore properties they do not know.
    static let contentDigestProperty = "cvmfs_swift_content"

    let store: ObjectStore
    let options: PublishOptions
    let revision: UInt64
    let now: Int64
    let previous: PreviousRevision?
    private(set) var catalogsWritten = 0
    private(set) var catalogsReused = 0
    private let scratch: ScratchFolder

    init(store: ObjectStore, options: PublishOptions, revision: UInt64, now: Int64, previous: PreviousRevision?) throws(PublishError) {
        self.store = store
        self.options = options
        self.revision = revision
        self.now = now
        self.previous = previous
        scratch = try ScratchFolder.inOutput(store.root + "/data/txn")
    }

    func emitRootCatalog(_ layout: CatalogLayout) throws(PublishError) -> NestedCatalogLink {
        try emit(layout, rootIndex: SourceTree.rootIndex)
    }

    private func emit(_ layout: CatalogLayout, rootIndex: Int) throws(PublishError) -> NestedCatalogLink {
        let (rows, nestedRoots) = layout.rows(ofCatalogAt: rootIndex)
        var links = [NestedCatalogLink]()
        for nested in nestedRoots { links.append(try emit(layout, rootIndex: nested)) }
        let mountpoint = layout.tree.entries[rootIndex].repositoryPath
        let digest = Self.contentDigest(rows: rows, links: links, algorithm: options.algorithm)
        let isRoot = rootIndex == SourceTree.rootIndex
        if !isRoot, let old = previous?.catalogs[mountpoint], old.contentDigest == digest {
            catalogsReused += 1
            return NestedCatalogLink(path: mountpoint, hash: old.hash, size: Int64(old.size), subtreeStatistics: old.statistics)
        }
        let file = scratch.path + "/catalog-\(catalogsWritten)"
        unlink(file)
        defer { unlink(file) }
        let statistics: CatalogStatistics
        do {
            let writer = try CatalogWriter(
                path: file, rootPrefix: mountpoint, revision: isRoot ? revision : (previous?.catalogs[mountpoint].map { _ in revision } ?? revision),
                previousRevision: previous?.catalogs[mountpoint]?.hash, lastModified: now, ttl: options.ttl)
            try writer.setProperty(Self.contentDigestProperty, digest)
            let profiled = Self.profiledDirectories(rows)
            if !profiled.isEmpty {
                try writer.setProperty(StartupProfile.catalogProperty, profiled.joined(separator: "\n"))
            }
            for row in rows {
                try writer.add(path: row.repositoryPath, entry: makeEntry(row), xattrs: makeXattrs(row.entry), chunks: row.chunks)
            }
            var subtree = CatalogCounters()
            for link in links {
                try writer.addNestedCatalog(path: link.path, hash: link.hash, size: UInt64(link.size))
                subtree = subtree + link.subtreeStatistics.own + link.subtreeStatistics.subtree
            }
            statistics = try writer.finish(subtree: subtree)
        } catch {
            throw .catalog(path: mountpoint.isEmpty ? "/" : mountpoint, reason: "\(error)")
        }
        let (hash, size) = try storeCatalog(file)
        catalogsWritten += 1
        return NestedCatalogLink(path: mountpoint, hash: hash, size: size, subtreeStatistics: statistics)
    }

    private func storeCatalog(_ file: String) throws(PublishError) -> (ContentHash, Int64) {
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw .output(path: file, reason: "cannot open the new catalog: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let size = Int(st.st_size)
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .output(path: file, reason: "cannot map the new catalog: \(errnoText())")
        }
        defer { munmap(mapped, size) }
        // Catalogs are always zlib, whatever the file compression (docs/format/repository-layout.md §3.3).
        let hash = try store.store(plain: UnsafeRawBufferPointer(start: mapped, count: size), algorithm: options.algorithm, compression: .zlib, suffix: .catalog)
        return (hash, Int64(size))
    }

    private func makeEntry(_ row: CatalogRow) -> DirectoryEntry {
        let source = row.entry
        var flags: EntryFlags = []
        if row.isNestedMountpoint { flags.insert(.nestedMountpoint) }
        if row.isNestedRoot { flags.insert(.nestedRoot) }
        var contentHash: ContentHash? = nil
        if case .whole(let hash)? = row.content { contentHash = hash }
        let isDevice = (source.mode & S_IFMT) == S_IFCHR || (source.mode & S_IFMT) == S_IFBLK
        return DirectoryEntry(
            name: source.name, mode: source.mode,
            size: source.kind == .directory || source.kind == .regular || source.kind == .symlink ? UInt64(source.size) : (isDevice ? source.rdev : 0),
            mtime: source.mtime, mtimeNanoseconds: source.mtimeNanoseconds,
            uid: source.uid, gid: source.gid, linkCount: row.linkCount, hardlinkGroup: row.hardlinkGroup,
            flags: flags, hashAlgorithm: options.algorithm, compression: options.compression,
            contentHash: contentHash, symlink: source.symlinkTarget, hasXattrs: !source.xattrs.isEmpty)
    }

    private func makeXattrs(_ entry: SourceEntry) -> XattrList? {
        guard !entry.xattrs.isEmpty else { return nil }
        var list = XattrList()
        for (key, value) in entry.xattrs {
            list.set(String(decoding: key, as: UTF8.self), value)
        }
        return list
    }

    /// The directories whose start-up profile file this catalog holds
    /// (docs/profiles.md): clients start a profile when such a directory is
    /// first looked up. Profiles of the repository root are not supported.
    static func profiledDirectories(_ rows: [CatalogRow]) -> [String] {
        let name = Array(StartupProfile.fileName.utf8)
        return rows.compactMap { row in
            guard row.entry.kind == .regular, row.entry.name == name, let parent = row.parentPath, !parent.isEmpty else { return nil }
            return parent
        }
    }

    /// A digest of everything a catalog would contain apart from its
    /// revision bookkeeping.
    static func contentDigest(rows: [CatalogRow], links: [NestedCatalogLink], algorithm: HashAlgorithm) -> String {
        var hasher = ContentHasher(.sha1)
        func add(_ text: String) { hasher.update(Array(text.utf8)); hasher.update([0]) }
        add(algorithm.description)
        for row in rows {
            let e = row.entry
            add(row.repositoryPath)
            add("\(e.mode) \(e.size) \(e.mtime) \(e.mtimeNanoseconds) \(e.uid) \(e.gid) \(e.rdev) \(row.linkCount) \(row.hardlinkGroup) \(row.isNestedMountpoint) \(row.isNestedRoot)")
            hasher.update(e.symlinkTarget)
            hasher.update([0])
            for (key, value) in e.xattrs {
                hasher.update(key); hasher.update([0]); hasher.update(value); hasher.update([0])
            }
            switch row.content {
            case .whole(let hash)?: add(hash.description)
            case .chunked(let chunks)?: for chunk in chunks { add("\(chunk.offset) \(chunk.size) \(chunk.hash)") }
            case nil: add("-")
            }
        }
        for link in links { add("\(link.path) \(link.hash)") }
        return hasher.finalize().description
    }
}

extension CatalogRow {
    var chunks: [FileChunk] {
        if case .chunked(let chunks)? = content { return chunks }
        return []
    }
}
