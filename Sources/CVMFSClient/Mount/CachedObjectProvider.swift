import Synchronization
import CVMFSFormat

/// Serves objects from the local cache, downloading and verifying them on a
/// miss: the glue between the file system, the cache and the downloader.
public final class CachedObjectProvider: ObjectProvider {
    public let cache: ObjectCache
    public let downloader: Downloader
    /// Object requests and those that missed the cache (`user.hitrate`).
    let requests = Atomic<Int>(0)
    let misses = Atomic<Int>(0)
    /// Opens served without a pin, per object: their `unpin` must not
    /// release someone else's pin.
    let unpinnedOpens = Mutex<[ContentHash: Int]>([:])

    /// Objects a start-up profile fetched ahead that no reader asked for yet,
    /// with their sizes; `hasAhead` spares readers the lock while it is empty.
    private let ahead = Mutex<[ContentHash: Int64]>([:])
    private let hasAhead = Atomic<Bool>(false)
    private let aheadHits = Mutex<(objects: Int, bytes: Int64)>((0, 0))

    public init(cache: ObjectCache, downloader: Downloader) {
        self.cache = cache
        self.downloader = downloader
    }

    public func openPinned(_ hash: ContentHash, suffix: ObjectSuffix, compression: Compression, expectedSize: UInt64?) throws(FileSystemError) -> Int32 {
        try fetch(hash, suffix: suffix, compression: compression, expectedSize: expectedSize.map { Int64($0) }, kind: suffix == .partial ? .chunk : .regular).rawValue
    }

    /// Share of object requests served from the cache, in percent.
    public var hitRate: Double? {
        let total = requests.load(ordering: .relaxed)
        guard total > 0 else { return nil }
        // A prefetched chunk evicted before it was read is downloaded twice.
        return 100 * Double(max(0, total - misses.load(ordering: .relaxed))) / Double(total)
    }

    public func unpin(_ hash: ContentHash) {
        let wasUnpinned = unpinnedOpens.withLock { opens -> Bool in
            guard let count = opens[hash] else { return false }
            opens[hash] = count > 1 ? count - 1 : nil
            return true
        }
        if !wasUnpinned { cache.unpin(hash) }
    }

    public func catalogFile(_ hash: ContentHash) throws(FileSystemError) -> String {
        let fd = try fetch(hash, suffix: .catalog, compression: .zlib, expectedSize: nil, kind: .catalog)
        fd.close()
        return cache.directory.objectPath(hash)
    }

    /// Bytes of prefetches in progress (reserved, not yet filled).
    let prefetching = Atomic<Int64>(0)

    /// Prefetches only while (a) the prefetches in progress, this one
    /// included, take at most 1/32 of the quota, and (b) pinned plus reserved
    /// bytes stay within half the quota with this chunk (readers' own
    /// fetches keep the other half); never in a shared cache. So a small
    /// cache (50 MB: a 2 MiB chunk is already over 1/32) does not prefetch:
    /// there the chunks fetched ahead would mostly be evicted before being
    /// read, and the churn showed up in integration/test-mount-quota.sh as a
    /// cache 2-6 MiB over its quota (measured by `du`, which walks the
    /// directory while fills are renamed into place). At 2000 MB three
    /// 16 MiB chunks fit.
    ///
    /// A download counts as a miss; the reader's later request counts as the
    /// request (so `user.hitrate` is what it would be without prefetching).
    /// Failures are dropped: the reader's own fetch reports and counts them.
    public func prefetch(_ hash: ContentHash, compression: Compression, expectedSize: UInt64) -> Bool {
        guard !cache.isShared else { return false }
        let size = Int64(clamping: expectedSize)
        if cache.isManaged {
            let budget = cache.limit / 32
            var current = prefetching.load(ordering: .relaxed)
            repeat {
                guard current + size <= budget else { return false }
                let (exchanged, original) = prefetching.compareExchange(expected: current, desired: current + size, ordering: .relaxed)
                if exchanged { break }
                current = original
            } while true
        }
        defer { if cache.isManaged { prefetching.wrappingSubtract(size, ordering: .relaxed) } }
        let path = hash.objectPath(suffix: .partial)
        let headroom = cache.isManaged ? cache.limit / 2 : Int64.max
        return (try? fillAhead(hash, path: path, compression: compression, size: size, kind: .chunk, headroom: headroom)) == .filled
    }

    /// Claims `hash` ahead of its reader and, if this call is the one to
    /// fill it, downloads it at background priority.
    private func fillAhead(_ hash: ContentHash, path: String, compression: Compression, size: Int64, kind: CacheObjectKind,
                           headroom: Int64) throws(CacheError) -> PrefetchOutcome {
        switch try cache.claimAhead(hash: hash, compression: compression, size: size, kind: kind, headroom: headroom) {
        case .present: return .present
        case .noRoom: return .noRoom
        case .fill(let ticket):
            try download(ticket, path, priority: .background).close()
            return .filled
        }
    }

    /// Fetches an object of a start-up profile ahead of its reader, at
    /// background priority, keeping half the quota for readers' own fetches;
    /// nil when the download or its verification failed.
    func fetchAhead(_ hash: ContentHash, suffix: ObjectSuffix, compression: Compression, size: UInt64) -> PrefetchOutcome? {
        let path = hash.objectPath(suffix: suffix)
        let headroom = cache.isManaged ? cache.limit / 2 : Int64.max
        do {
            let outcome = try fillAhead(hash, path: path, compression: compression, size: Int64(clamping: size),
                                        kind: suffix == .partial ? .chunk : .regular, headroom: headroom)
            if outcome == .filled {
                ahead.withLock { $0[hash] = Int64(clamping: size) }
                hasAhead.store(true, ordering: .relaxed)
            }
            return outcome
        } catch {
            Log.debug("fetching \(path) ahead: \(error)")
            return nil
        }
    }

    /// Fetched-ahead objects that readers asked for, and those still unread.
    var aheadStatistics: (hits: Int, hitBytes: Int64, unreadObjects: Int, unreadBytes: Int64) {
        let hits = aheadHits.withLock { $0 }
        let unread = ahead.withLock { ($0.count, $0.values.reduce(0, +)) }
        return (hits.objects, hits.bytes, unread.0, unread.1)
    }

    /// A small regular object's inflated bytes (a start-up profile).
    func readObject(_ hash: ContentHash, compression: Compression, size: UInt64) throws(FileSystemError) -> [UInt8] {
        let fd = try fetch(hash, suffix: .none, compression: compression, expectedSize: Int64(clamping: size), kind: .regular)
        defer {
            fd.close()
            unpin(hash)
        }
        var out = [UInt8]()
        do {
            try fd.forEachBlock { out.append(contentsOf: $0) }
        } catch {
            throw .read(path: "cached " + hash.objectPath(suffix: .none), errno: error.rawValue)
        }
        return out
    }

    /// Fetches and pins; the caller closes the descriptor and unpins.
    func fetch(_ hash: ContentHash, suffix: ObjectSuffix, compression: Compression, expectedSize: Int64?, kind: CacheObjectKind) throws(FileSystemError) -> FileDescriptor {
        let path = hash.objectPath(suffix: suffix)
        requests.wrappingAdd(1, ordering: .relaxed)
        if hasAhead.load(ordering: .relaxed), let size = ahead.withLock({ $0.removeValue(forKey: hash) }) {
            aheadHits.withLock {
                $0.objects += 1
                $0.bytes += size
            }
        }
        do throws(CacheError) {
            switch try cache.claim(hash: hash, compression: compression, expectedSize: expectedSize, kind: kind, pin: true) {
            case .cached(let fd):
                return fd
            case .fill(let ticket):
                return try download(ticket, path, priority: .demand)
            }
        } catch {
            if case .pinLimitExceeded = error, let fd = try? openUnpinned(hash) {
                return fd
            }
            throw .object(path, error)
        }
    }

    /// Fills a claimed object: downloads `path` into the ticket's sink and
    /// commits it (a download counts as a miss).
    private func download(_ ticket: CacheFillTicket, _ path: String, priority: TransferPriority) throws(CacheError) -> FileDescriptor {
        misses.wrappingAdd(1, ordering: .relaxed)
        do throws(DownloadError) { _ = try downloader.fetch(path, into: ticket.sink, priority: priority) } catch {
            throw ticket.fail(error)
        }
        return try ticket.commit()
    }

    /// When pinned objects already fill their share of the quota, an object
    /// is served unpinned: the open descriptor keeps reading it even if the
    /// cache evicts it meanwhile, so the read succeeds and the quota holds.
    private func openUnpinned(_ hash: ContentHash) throws(CacheError) -> FileDescriptor? {
        guard let fd = try cache.open(hash, pin: false) else { return nil }
        unpinnedOpens.withLock { $0[hash, default: 0] += 1 }
        return fd
    }

    public func cachedCopyHash(_ hash: ContentHash) -> ContentHash? {
        guard let fd = try? cache.open(hash) else { return nil }
        defer { fd.close() }
        var hasher = ContentHasher(hash.algorithm)
        guard (try? fd.forEachBlock { hasher.update($0) }) != nil else { return nil }
        return hasher.finalize()
    }

    /// The certificate object, inflated (cached like any object).
    func readSmallObject(_ hash: ContentHash, suffix: ObjectSuffix) throws(FileSystemError) -> [UInt8] {
        let fd = try fetch(hash, suffix: suffix, compression: .zlib, expectedSize: nil, kind: .regular)
        defer {
            fd.close()
            cache.unpin(hash)
        }
        var out = [UInt8]()
        do {
            try fd.forEachBlock { out.append(contentsOf: $0) }
        } catch {
            throw .read(path: "cached " + hash.objectPath(suffix: suffix), errno: error.rawValue)
        }
        return out
    }
}
