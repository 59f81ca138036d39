import Glibc
import Synchronization
import CVMFSFormat

/// The read-only file system of one mounted repository revision: answers the
/// kernel's questions from the catalogs and serves content from the cache.
public final class RepositoryFileSystem: FileSystemCore {
    public let settings: FileSystemSettings
    /// The catalogs of the mounted revision; replaced by `switchRevision`.
    private let currentTree: Mutex<CatalogTree>
    public var tree: CatalogTree { currentTree.withLock { $0 } }
    let provider: any ObjectProvider
    let status: any MountStatus
    /// What `profile record` collects (docs/profiles.md).
    public let recorder = ProfileRecorder()
    /// Starts a profiled directory's start-up profile at its first lookup; nil: profiles off.
    let profiles: ProfilePrefetcher?
    let readAhead: ChunkPrefetcher?

    /// Inodes the kernel holds, with their lookup counts.
    let inodes = Mutex(InodeTable())
    /// Path hashes known not to exist in this revision.
    let misses = Mutex(NegativeLookupCache())
    /// Misses the kernel caches as negative entries, taken back at a switch.
    let kernelMisses = Mutex(KernelMissLog())
    let directories = Mutex<[UInt64: Listing]>([:])
    let files = Mutex<[UInt64: OpenFile]>([:])
    let nextHandle = Atomic<UInt64>(1)
    /// `open` and `opendir` calls since the mount (`user.nopen`, `user.ndiropen`).
    let openCalls = Atomic<Int>(0)
    let openDirectoryCalls = Atomic<Int>(0)

    public var kernelCacheTimeout: Double { settings.kernelCacheTimeout }

    public init(tree: CatalogTree, provider: any ObjectProvider, status: any MountStatus, settings: FileSystemSettings,
                profiles: ProfilePrefetcher? = nil, readAhead: ChunkPrefetcher? = nil) throws(FileSystemError) {
        currentTree = Mutex(tree)
        self.profiles = profiles
        self.readAhead = readAhead
        self.provider = provider
        self.status = status
        self.settings = settings
        let rootCatalog = tree.root.catalog
        guard let rootEntry = try Self.catalogLookup(rootCatalog, PathHash(path: "")) else {
            throw .inconsistent("root catalog \(rootCatalog.label) has no root entry")
        }
        let record = makeRecord(pathHash: PathHash(path: ""), parent: Self.rootInode, entry: rootEntry, catalog: tree.root)
        // The root is never forgotten.
        inodes.withLock { $0.remember(Self.rootInode, record, name: UnsafeRawBufferPointer(start: nil, count: 0), count: 2) }
    }

    // MARK: - Lookup and attributes

    public func lookup(parent: UInt64, name: UnsafeRawBufferPointer) throws(FileSystemError) -> InodeAttributes {
        let (parentRecord, parentPath) = inodes.withLock { ($0[parent], $0.path(of: parent, root: Self.rootInode)) }
        guard let parentRecord else { throw .staleHandle }
        guard parentRecord.isDirectory else { throw .notADirectory }
        var path = parentPath
        path.reserveCapacity(path.count + 1 + name.count)
        path.append(UInt8(ascii: "/"))
        path.append(contentsOf: name)
        let pathHash = path.withUnsafeBytes { PathHash(path: $0) }
        if misses.withLock({ $0.contains(pathHash) }) {
            throw kernelMisses.withLock { $0.record(parent: parent, name: name, pathHash: pathHash) } ? .notFound : .notFoundUncached
        }
        let tree = self.tree
        let catalog = try countingIOErrors { () throws(FileSystemError) in try tree.catalog(for: path, includeExact: false) }
        guard let entry = try countingIOErrors({ () throws(FileSystemError) in try Self.catalogLookup(catalog.catalog, pathHash) }) else {
            misses.withLock { $0.insert(pathHash) }
            throw kernelMisses.withLock { $0.record(parent: parent, name: name, pathHash: pathHash) } ? .notFound : .notFoundUncached
        }
        let record = makeRecord(pathHash: pathHash, parent: parent, entry: entry, catalog: catalog)
        let attributes = makeAttributes(entry, inode: catalog.inode(of: entry))
        remember(attributes.inode, record, name: name)
        if let profiles, tree.profiledDirectories.hasPending {
            // The directory itself, or (when it is a nested catalog's root, whose
            // catalog attaches only now) the first name looked up in it.
            if entry.isDirectory, let directory = tree.profiledDirectories.claim(pathHash) {
                profiles.start(directory: directory, tree: tree)
            } else if let directory = tree.profiledDirectories.claim(parentRecord.pathHash) {
                profiles.start(directory: directory, tree: tree)
            }
        }
        return attributes
    }

    /// Adds one kernel reference to `inode`; a record is stored only if the
    /// kernel did not hold the inode yet.
    func remember(_ inode: UInt64, _ record: InodeRecord, name: UnsafeRawBufferPointer) {
        inodes.withLock { $0.remember(inode, record, name: name) }
    }

    public func forget(_ inode: UInt64, count: UInt64) {
        guard inode != Self.rootInode else { return }
        let released = inodes.withLock { $0.forget(inode, count: count) }
        withExtendedLifetime(released) {}
    }

    /// Read again from the catalog row: the kernel asks only when its
    /// attribute timeout has passed, and records do not keep attributes.
    public func getattr(_ inode: UInt64) throws(FileSystemError) -> InodeAttributes {
        guard let record = inodes.withLock({ $0[inode] }) else { throw .staleHandle }
        return makeAttributes(try entry(of: record), inode: inode)
    }

    public func readlink(_ inode: UInt64) throws(FileSystemError) -> [UInt8] {
        guard let record = inodes.withLock({ $0[inode] }) else { throw .staleHandle }
        guard record.isSymlink else { throw .notASymlink }
        return symlinkTarget(of: try entry(of: record))
    }

    func makeRecord(pathHash: PathHash, parent: UInt64, entry: DirectoryEntry, catalog: MountedCatalog) -> InodeRecord {
        var flags: InodeRecord.Flags = []
        if entry.isDirectIO { flags.insert(.directIO) }
        if entry.hasXattrs { flags.insert(.hasXattrs) }
        if entry.contentHash != nil { flags.insert(.hasContentHash) }
        return InodeRecord(parent: parent, pathHash: pathHash, catalog: catalog, flags: flags, type: UInt8(truncatingIfNeeded: entry.mode >> 12))
    }

    /// The target a symlink shows, after variant expansion if configured.
    func symlinkTarget(of entry: DirectoryEntry) -> [UInt8] {
        settings.expandSymlinks ? SymlinkExpander.expand(entry.symlinkBytes, lookup: settings.variable) : entry.symlinkBytes
    }

    func makeAttributes(_ entry: DirectoryEntry, inode: UInt64) -> InodeAttributes {
        let targetCount = entry.isSymlink ? symlinkTarget(of: entry).count : 0
        var mode = entry.mode
        if settings.worldReadable { mode |= entry.isDirectory ? 0o555 : 0o444 }
        let isDevice = (mode & 0o170000) == 0o020000 || (mode & 0o170000) == 0o060000
        return InodeAttributes(
            inode: inode, mode: mode, linkCount: max(1, entry.linkCount),
            uid: settings.claimedOwner?.uid ?? entry.uid, gid: settings.claimedOwner?.gid ?? entry.gid,
            size: entry.isSymlink ? UInt64(targetCount) : (isDevice ? 0 : entry.size),
            rdev: isDevice ? entry.size : 0,
            mtime: entry.mtime, mtimeNanoseconds: entry.mtimeNanoseconds ?? 0)
    }

    /// The record's full catalog entry, read again from its catalog (records
    /// keep only what lookups and getattr need).
    func entry(of record: InodeRecord) throws(FileSystemError) -> DirectoryEntry {
        try countingIOErrors { () throws(FileSystemError) -> DirectoryEntry in
            guard let entry = try Self.catalogLookup(record.catalog.catalog, record.pathHash) else {
                throw .inconsistent("the entry with path hash \(record.pathHash) vanished from catalog \(record.catalog.catalog.label)")
            }
            return entry
        }
    }

    static func catalogLookup(_ catalog: Catalog, _ hash: PathHash) throws(FileSystemError) -> DirectoryEntry? {
        do {
            return try catalog.lookup(hash)
        } catch {
            throw .catalog(error)
        }
    }

    /// Runs `body`, counting an I/O error it throws for `user.nioerr`.
    func countingIOErrors<R>(_ body: () throws(FileSystemError) -> R) throws(FileSystemError) -> R {
        do {
            return try body()
        } catch {
            if error.isIOError { status.countIOError("\(error)") }
            throw error
        }
    }

    /// Applies a new revision (docs/format/client-behaviour.md §7): later lookups and
    /// listings use `newTree`, whose inodes start past every inode handed out
    /// so far; inodes the kernel still holds keep answering with the revision
    /// they came from, so open files keep reading their old content. Returns
    /// the (parent, name) pairs the kernel may have cached, for invalidation.
    public func switchRevision(to newTree: CatalogTree) throws(FileSystemError) -> [(parent: UInt64, name: [UInt8])] {
        guard let rootEntry = try Self.catalogLookup(newTree.root.catalog, PathHash(path: "")) else {
            throw .inconsistent("root catalog \(newTree.root.catalog.label) has no root entry")
        }
        // The old tree is let go of at the end, outside the locks: its catalogs
        // close (and unpin) there unless old inodes still refer to them.
        let previous = currentTree.withLock { tree in
            let previous = tree
            tree = newTree
            return previous
        }
        defer { withExtendedLifetime(previous) {} }
        profiles?.cancelAll()
        misses.withLock { $0.removeAll() }
        let root = makeRecord(pathHash: PathHash(path: ""), parent: Self.rootInode, entry: rootEntry, catalog: newTree.root)
        let negative = kernelMisses.withLock { $0.takeAll() }
        return inodes.withLock { table in
            table.replace(Self.rootInode, with: root)
            var cached = negative
            table.forEach { inode, parent, name in
                guard inode != Self.rootInode else { return }
                cached.append((parent, Array(name)))
            }
            return cached
        }
    }

    // MARK: - Directories

    public func openDirectory(_ inode: UInt64) throws(FileSystemError) -> UInt64 {
        let (found, directoryPath) = inodes.withLock { ($0[inode], $0.path(of: inode, root: Self.rootInode)) }
        guard let record = found else { throw .staleHandle }
        guard record.isDirectory else { throw .notADirectory }
        openDirectoryCalls.wrappingAdd(1, ordering: .relaxed)
        let catalog = try countingIOErrors { () throws(FileSystemError) in try tree.catalog(for: directoryPath, includeExact: true) }
        // A listing is a use too: `ls` of a nested catalog's root looks nothing up below it.
        if let profiles, tree.profiledDirectories.hasPending, let directory = tree.profiledDirectories.claim(record.pathHash) {
            profiles.start(directory: directory, tree: tree)
        }
        var listing = Listing()
        // `.` and `..` carry only their inode and type: the kernel links
        // neither from readdirplus, and plain readdir sends no more.
        func dot(_ name: [UInt8], _ inode: UInt64) {
            listing.append(name: name, attributes: InodeAttributes(inode: inode, mode: 0o040555, linkCount: 2, uid: 0, gid: 0,
                                                                   size: 0, rdev: 0, mtime: 0, mtimeNanoseconds: 0),
                           record: record)
        }
        dot([UInt8(ascii: ".")], inode)
        dot([UInt8(ascii: "."), UInt8(ascii: ".")], inode == Self.rootInode ? inode : record.parent)
        do {
            var path = directoryPath
            path.append(UInt8(ascii: "/"))
            let prefixCount = path.count
            try catalog.catalog.forEachChild(of: record.pathHash) { entry in
                path.removeSubrange(prefixCount...)
                path.append(contentsOf: entry.nameBytes)
                let childHash = path.withUnsafeBytes { PathHash(path: $0) }
                let child = makeRecord(pathHash: childHash, parent: inode, entry: entry, catalog: catalog)
                listing.append(name: entry.nameBytes, attributes: makeAttributes(entry, inode: catalog.inode(of: entry)), record: child)
            }
        } catch {
            status.countIOError("listing \(String(decoding: directoryPath, as: UTF8.self)): \(error)")
            throw .catalog(error)
        }
        let handle = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
        directories.withLock { $0[handle] = listing }
        return handle
    }

    public func readDirectory(_ handle: UInt64, offset: UInt64, plus: Bool,
                              _ body: (UnsafeRawBufferPointer, InodeAttributes, UInt64) -> Bool) throws(FileSystemError) {
        guard let listing = directories.withLock({ $0[handle] }) else { throw .staleHandle }
        var index = Int(offset)
        while index < listing.entries.count {
            let item = listing.entries[index]
            // `.` and `..` are never looked up (libfuse passthrough_ll).
            let counts = plus && index >= 2
            let attributes = item.attributes
            if counts { listing.withName(of: item) { remember(attributes.inode, item.record, name: $0) } }
            // An entry that did not fit is returned by the caller (FileSystemCore.readDirectory).
            guard listing.withName(of: item, { body($0, attributes, UInt64(index + 1)) }) else { return }
            index += 1
        }
    }

    public func releaseDirectory(_ handle: UInt64) {
        directories.withLock { _ = $0.removeValue(forKey: handle) }
    }

    // MARK: - Files

    public func open(_ inode: UInt64) throws(FileSystemError) -> OpenedFile {
        let (found, path) = inodes.withLock { ($0[inode], $0.path(of: inode, root: Self.rootInode)) }
        guard let record = found else { throw .staleHandle }
        if record.isDirectory { throw .isADirectory }
        guard record.isRegular else { throw .inconsistent("open of inode \(inode), which is not a regular file") }
        // Past the budget the answer is EMFILE, which a program understands, not an EIO
        // from a cache file that could not be opened.
        guard openFileCount < settings.maxOpenFiles else { throw .tooManyOpenFiles }
        openCalls.wrappingAdd(1, ordering: .relaxed)
        let entry = try entry(of: record)
        if recorder.isRecording && !entry.isChunked { recorder.noteOpen(path) }
        let file = try countingIOErrors { () throws(FileSystemError) in
            try OpenFile(path: path, catalog: record.catalog, entry: entry, provider: provider, recorder: recorder,
                         readAhead: readAhead)
        }
        let handle = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
        files.withLock { $0[handle] = file }
        let directIO = record.flags.contains(.directIO)
        return OpenedFile(handle: handle, keepCache: !directIO, directIO: directIO)
    }

    public func read(_ handle: UInt64, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> Int {
        guard let file = files.withLock({ $0[handle] }) else { throw .staleHandle }
        return try countingIOErrors { () throws(FileSystemError) in try file.read(offset: offset, into: buffer) }
    }

    /// Files currently open (`user.usedfd`).
    public var openFileCount: Int { files.withLock { $0.count } }
    /// Directories currently open (`user.useddirp`).
    public var openDirectoryCount: Int { directories.withLock { $0.count } }

    public func release(_ handle: UInt64) {
        let file = files.withLock { $0.removeValue(forKey: handle) }
        file?.close()
    }

    // MARK: - Extended attributes

    public func getxattr(_ inode: UInt64, name: UnsafeRawBufferPointer) throws(FileSystemError) -> [UInt8] {
        guard let record = inodes.withLock({ $0[inode] }) else { throw .staleHandle }
        let key = String(decoding: name, as: UTF8.self)
        if key.hasPrefix("user."), let value = try magicAttribute(String(key.dropFirst(5)), of: record) {
            return value
        }
        guard record.flags.contains(.hasXattrs) else { throw .noAttribute }
        let list = try countingIOErrors { () throws(FileSystemError) in try xattrs(of: record) }
        guard let value = list?[key] else { throw .noAttribute }
        return value
    }

    public func listxattr(_ inode: UInt64) throws(FileSystemError) -> [UInt8] {
        guard let record = inodes.withLock({ $0[inode] }) else { throw .staleHandle }
        var out = [UInt8]()
        if record.flags.contains(.hasXattrs), let list = try countingIOErrors({ () throws(FileSystemError) in try xattrs(of: record) }) {
            for key in list.keys {
                out.append(contentsOf: key.utf8)
                out.append(0)
            }
        }
        let showMagic = settings.magicXattrVisibility == .always || (settings.magicXattrVisibility == .rootOnly && inode == Self.rootInode)
        if showMagic {
            for name in magicAttributeNames(for: record) {
                out.append(contentsOf: "user.\(name)".utf8)
                out.append(0)
            }
        }
        return out
    }

    private func xattrs(of record: InodeRecord) throws(FileSystemError) -> XattrList? {
        do {
            return try record.catalog.catalog.xattrs(of: record.pathHash)
        } catch {
            throw .catalog(error)
        }
    }

    public func statfs() -> FileSystemStatistics {
        let counters = tree.root.catalog.statistics
        let files = UInt64(max(0, (counters.own + counters.subtree).entries))
        let loaded = tree.attached.reduce(Int64(0)) { $0 + $1.catalog.statistics.own.entries }
        let free = files > UInt64(max(0, loaded)) ? files - UInt64(max(0, loaded)) : 0
        guard let cache = status.cacheStatistics() else {
            return FileSystemStatistics(blockSize: 512, blocks: 0, freeBlocks: 0, files: 0, freeFiles: 0)
        }
        let used = min(cache.used, cache.limit)
        return FileSystemStatistics(blockSize: 512, blocks: cache.limit / 512, freeBlocks: (cache.limit - used) / 512, files: files, freeFiles: free)
    }
}

extension RepositoryFileSystem: SegmentedReading {
    public func withSegments(_ handle: UInt64, offset: UInt64, size: Int,
                             _ body: (UnsafeBufferPointer<FileSegment>) -> Void) throws(FileSystemError) -> Bool {
        guard let file = files.withLock({ $0[handle] }) else { throw .staleHandle }
        return try countingIOErrors { () throws(FileSystemError) in try file.withSegments(offset: offset, size: size, body) }
    }
}
