#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat
import Synchronization

/// The local object cache: inflated objects under their content hash, an
/// in-flight table so each object downloads once however many threads ask,
/// and (when managed) an LRU quota kept in `cachedb`
/// (docs/format/client-behaviour.md §10); objects are kept inflated so that a
/// warm read is one `pread` of the cached file.
///
/// Thread-safe. All mutable state sits in `state`, a `Mutex`; the fill of one
/// object runs outside the lock, and threads that want an object being
/// filled wait on its `CacheFill`.
///
/// A private cache (the default) is owned by one process: `cachedb` is
/// opened exclusively and the in-memory state is authoritative. A shared
/// cache (`shared: true`, `CVMFS_SHARED_CACHE=yes`) may be used by several
/// processes at once; its quota, LRU order and pins are kept across processes
/// by `SharedCacheLedger` (see there for the design), while hits stay
/// in-memory lookups.
public final class ObjectCache: Sendable {
    /// The directory layout.
    public let directory: CacheDirectory
    /// Quota in bytes; -1 means unmanaged (no `cachedb`, no eviction).
    public let limit: Int64
    /// What was repaired when the cache was opened.
    public let reconcileReport: CacheReconcileReport
    /// Descriptor of the cache directory, for `openat` on the hit path.
    let directoryFD: CInt
    let state: Mutex<ObjectCacheState>

    /// Touches are written to `cachedb` in batches of this many.
    static let touchBatch = 1024

    /// Cleanup threshold: eviction frees space down to half the limit, and an
    /// object larger than this can never be cached (docs/format/client-behaviour.md §10.2).
    public var threshold: Int64 { limit / 2 }
    /// True when a quota is enforced.
    public var isManaged: Bool { limit >= 0 }

    /// True when several processes may share the directory (`CVMFS_SHARED_CACHE`).
    public let isShared: Bool

    /// Opens (creating if needed) the cache in `path` with a quota of `limit`
    /// bytes (`CVMFS_QUOTA_LIMIT` converted to bytes; -1 for unmanaged), and
    /// reconciles `cachedb` with the files on disk. With `shared`, other
    /// processes may use the same directory at the same time.
    public init(path: String, limit: Int64, shared: Bool = false) throws(CacheError) {
        let directory = try CacheDirectory(path: path)
        self.directory = directory
        self.limit = limit < 0 ? -1 : limit
        isShared = shared
        do { directoryFD = try CacheSyscall.open(directory.path, O_RDONLY | O_DIRECTORY) } catch {
            throw .io(operation: "open", path: directory.path, errno: error.rawValue)
        }
        var initial = ObjectCacheState()
        initial.dirty.reserveCapacity(Self.touchBatch)
        var report = CacheReconcileReport()
        do {
            if self.limit < 0 {
                Self.removeStaleTemps(directory, onlyUnheld: shared, report: &report)
            } else if shared {
                initial.ledger = try SharedCacheLedger.open(directory, limit: self.limit, into: &initial, report: &report)
            } else {
                initial.ledger = try PrivateCacheLedger.open(directory, limit: self.limit, into: &initial, report: &report)
            }
        } catch {
            CacheSyscall.close(directoryFD)
            throw error
        }
        reconcileReport = report
        state = Mutex(initial)
    }

    deinit {
        close()
        CacheSyscall.close(directoryFD)
    }

    /// Writes pending LRU touches to `cachedb` and gives back what this
    /// process held (the ledger's `close`).
    public func close() {
        state.withLock { s in
            guard let ledger = s.ledger else { return }
            ledger.close(&s)
        }
    }

    // MARK: - Hit path

    /// Opens a cached object read-only, or returns `nil` on a miss. A hit
    /// records the access in memory only (no SQL). With `pin`, the object is
    /// also pinned (balance with `unpin`).
    public func open(_ hash: ContentHash, pin: Bool = false) throws(CacheError) -> FileDescriptor? {
        if isManaged {
            let threshold = self.threshold
            let hit = try state.withLock { (s) throws(CacheError) -> Bool in
                try Self.touch(&s, hash, pin: pin, threshold: threshold)
            }
            guard hit else { return try openAdopted(hash, pin: pin) }
        }
        let (fd, code) = openObject(hash)
        if fd >= 0 { return FileDescriptor(rawValue: fd) }
        if pin { unpin(hash) }
        if code == ENOENT {
            // Deleted behind our back: forget it, so the next fetch refills.
            if isManaged { state.withLock { Self.forget(&$0, hash) } }
            return nil
        }
        throw .io(operation: "open", path: directory.objectPath(hash), errno: code)
    }

    /// `openat(cacheDir, "xx/rest<id>", O_RDONLY)` with the path built on the stack.
    @inline(__always)
    func openObject(_ hash: ContentHash) -> (CInt, CInt) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: CacheDirectory.relativePathCapacity) { buffer in
            CacheDirectory.writeRelativePath(hash, into: buffer.baseAddress!)
            do throws(CacheSyscall.Errno) { return (try CacheSyscall.openat(directoryFD, buffer.baseAddress!, O_RDONLY), 0) } catch {
                return (-1, error.rawValue)
            }
        }
    }

    static func touch(_ s: inout ObjectCacheState, _ hash: ContentHash, pin: Bool, threshold: Int64) throws(CacheError) -> Bool {
        guard let i = s.entries.index(forKey: hash) else { return false }
        if pin {
            let size = s.entries.values[i].size
            if s.entries.values[i].pins == 0 {
                if s.pinned + size > threshold {
                    throw .pinLimitExceeded(hash: hash, size: size, pinned: s.pinned, threshold: threshold)
                }
                if let ledger = s.ledger, !ledger.holdPin(hash) {
                    // Evicted by another process: forget it, the caller refills.
                    forget(&s, hash)
                    return false
                }
                s.pinned += size
            }
            s.entries.values[i].pins += 1
        }
        s.entries.values[i].acseq = s.nextSequence
        s.nextSequence += 1
        s.dirty.append(hash)
        if s.dirty.count >= touchBatch { flushSlowPath(&s) }
        return true
    }

    // MARK: - Pinning

    /// Pins a cached object so that it is never evicted (loaded catalogs,
    /// open files). Pins are reference counted.
    public func pin(_ hash: ContentHash) throws(CacheError) {
        guard isManaged else { return }
        let threshold = self.threshold
        let found = try state.withLock { (s) throws(CacheError) -> Bool in
            try Self.touch(&s, hash, pin: true, threshold: threshold)
        }
        if !found { throw .notCached(hash: hash) }
    }

    /// Drops one pin reference.
    public func unpin(_ hash: ContentHash) {
        guard isManaged else { return }
        state.withLock { s in
            guard let i = s.entries.index(forKey: hash), s.entries.values[i].pins > 0 else { return }
            s.entries.values[i].pins -= 1
            if s.entries.values[i].pins == 0 {
                s.pinned -= s.entries.values[i].size
                s.ledger?.releasePin(hash)
                s.dirty.append(hash)
            }
        }
    }

    // MARK: - Inspection

    /// Bytes used, the limit and bytes pinned (`talk cache size`, `statfs`).
    /// An unmanaged cache reports `(0, -1, 0)`.
    public func usage() -> (used: Int64, limit: Int64, pinned: Int64) {
        guard isManaged else { return (0, -1, 0) }
        return state.withLock { s in
            // `pinned` is this process's pins.
            (s.ledger?.usedBytes(s) ?? s.used, limit, s.pinned)
        }
    }

    /// Bytes currently reserved by fills in progress.
    public var reservedBytes: Int64 { state.withLock { $0.reserved } }

    /// All cached objects, least recently used first (`talk cache list`).
    public func list() -> [CacheListEntry] {
        if isManaged {
            return state.withLock { s in
                guard let ledger = s.ledger else { return [] }
                return ledger.list(&s)
            }
        }
        return Self.scanObjects(directory).map {
            CacheListEntry(hash: $0.hash, size: $0.size, kind: .regular, pinned: false, description: "")
        }
    }

    /// Evicts least recently used unpinned objects until at most `bytes` are
    /// used. Returns false if pinned objects keep usage above `bytes`.
    @discardableResult
    public func cleanup(toBytes bytes: Int64) -> Bool {
        guard isManaged else { return false }
        return state.withLock { s in
            guard let ledger = s.ledger else { return false }
            _ = ledger.evict(&s, toUsed: bytes)
            return ledger.usedBytes(s) <= bytes
        }
    }

    // MARK: - Internal bookkeeping (all called with the lock held)

    /// Writes pending touches in one transaction.
    static func flush(_ s: inout ObjectCacheState) {
        guard !s.dirty.isEmpty else { return }
        flushSlowPath(&s)
    }

    @inline(never)
    static func flushSlowPath(_ s: inout ObjectCacheState) {
        defer { s.dirty.removeAll(keepingCapacity: true) }
        guard let ledger = s.ledger else { return }
        do throws(CacheError) { try ledger.flush(&s) } catch { s.lastDatabaseError = error }
    }

    /// Removes an entry whose file vanished.
    static func forget(_ s: inout ObjectCacheState, _ hash: ContentHash) {
        guard let e = s.entries.removeValue(forKey: hash), let ledger = s.ledger else { return }
        s.used -= e.size
        if e.pins > 0 {
            s.pinned -= e.size
            ledger.releasePin(hash)
        }
        do throws(CacheError) { try ledger.forget(hash) } catch { s.lastDatabaseError = error }
    }

    /// A miss in this process's view that another process may have filled
    /// since (a shared cache): opens it if the ledger knows it now.
    func openAdopted(_ hash: ContentHash, pin: Bool) throws(CacheError) -> FileDescriptor? {
        let threshold = self.threshold
        let fd = try state.withLock { (s) throws(CacheError) -> CInt in
            guard let ledger = s.ledger else { return -1 }
            if s.entries[hash] == nil {
                guard try ledger.adopt(hash, into: &s) else { return -1 }
            }
            guard try Self.touch(&s, hash, pin: pin, threshold: threshold) else { return -1 }
            let (fd, _) = openObject(hash)
            if fd < 0 { Self.forget(&s, hash) }
            return fd
        }
        return fd >= 0 ? FileDescriptor(rawValue: fd) : nil
    }

    /// Files under `00`…`ff` whose names are object names. Buckets are made when their first
    /// object is stored, so the cache folder is listed once and only the buckets in it are
    /// opened (not 256 `opendir` calls on a cache that holds a few objects), in bucket order.
    static func scanObjects(_ directory: CacheDirectory) -> [(hash: ContentHash, size: Int64, atime: Int64)] {
        var found: [(hash: ContentHash, size: Int64, atime: Int64)] = []
        let present = Set((try? CacheSyscall.listDirectory(directory.path)) ?? [])
        for i in 0..<256 {
            let bucket = CacheDirectory.bucketName(i)
            guard present.contains(bucket), let names = try? CacheSyscall.listDirectory(directory.path + "/" + bucket) else { continue }
            for name in names {
                guard let hash = ContentHash(printable: bucket + name), hash.cachePath == bucket + "/" + name,
                      let info = try? CacheSyscall.stat(directory.path + "/" + bucket + "/" + name), !info.isDirectory
                else { continue }
                found.append((hash, info.size, info.atime))
            }
        }
        return found
    }
}
