import Synchronization
import CVMFSFormat

/// Fetches a profiled directory's start-up working set ahead of its reads
/// (docs/profiles.md): the profile's objects in order, on several background
/// workers at once, through the cache's quota-aware, verifying prefetch. A
/// reader that needs an object on its way waits for that transfer; a failed
/// one leaves the reader to fetch (and report) it itself.
///
/// A run stops at a revision switch or unmount (`cancelAll`), and once the
/// next object would take the run past half the cache quota or the cache
/// has no room to spare for it.
public final class ProfilePrefetcher: Sendable {
    private let provider: CachedObjectProvider
    /// Worker threads per run: the downloader's background slots.
    private let workers: Int
    /// Bumped by `cancelAll`; a run stops when it no longer matches.
    private let generation = Atomic<UInt64>(0)
    private let counters = Mutex(ProfileStatistics())

    /// The most bytes one profile file may have.
    static let profileSizeLimit: UInt64 = 16 << 20

    public init(provider: CachedObjectProvider, workers: Int) {
        self.provider = provider
        self.workers = max(1, workers)
    }

    public var statistics: ProfileStatistics {
        var stats = counters.withLock { $0 }
        let ahead = provider.aheadStatistics
        stats.hits = ahead.hits
        stats.hitBytes = ahead.hitBytes
        stats.wastedObjects = ahead.unreadObjects
        stats.wastedBytes = ahead.unreadBytes
        return stats
    }

    /// Stops every run; objects already on their way complete.
    public func cancelAll() {
        generation.wrappingAdd(1, ordering: .relaxed)
    }

    /// Starts the profile of `directory` (a repository path) in the
    /// background; returns at once.
    func start(directory: [UInt8], tree: CatalogTree) {
        let started = generation.load(ordering: .relaxed)
        spawnDetachedThread { [self] in
            let jobs = resolve(directory: directory, tree: tree)
            guard !jobs.isEmpty, generation.load(ordering: .relaxed) == started else { return }
            counters.withLock { $0.runs += 1 }
            let run = Run(jobs: jobs, generation: started)
            for _ in 1..<min(workers, jobs.count) { spawnDetachedThread { self.work(run) } }
            work(run)
        }
    }

    struct Job {
        var hash: ContentHash
        var suffix: ObjectSuffix
        var compression: Compression
        var size: UInt64
    }

    final class Run: Sendable {
        let jobs: [Job]
        let generation: UInt64
        let next = Atomic<Int>(0)
        /// Bytes this run has claimed against its budget.
        let claimed = Atomic<Int64>(0)
        let stopped = Atomic<Bool>(false)

        init(jobs: [Job], generation: UInt64) {
            self.jobs = jobs
            self.generation = generation
        }
    }

    private func work(_ run: Run) {
        let budget = provider.cache.isManaged ? provider.cache.limit / 2 : Int64.max
        while !run.stopped.load(ordering: .relaxed), generation.load(ordering: .relaxed) == run.generation {
            let index = run.next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < run.jobs.count else { return }
            let job = run.jobs[index]
            let size = Int64(clamping: job.size)
            if run.claimed.wrappingAdd(size, ordering: .relaxed).newValue > budget {
                stop(run)
                return
            }
            switch provider.fetchAhead(job.hash, suffix: job.suffix, compression: job.compression, size: job.size) {
            case .filled:
                counters.withLock {
                    $0.objects += 1
                    $0.bytes += size
                }
            case .present:
                run.claimed.wrappingSubtract(size, ordering: .relaxed)
            case .noRoom:
                stop(run)
                return
            case nil:
                counters.withLock { $0.failed += 1 }
            }
        }
    }

    private func stop(_ run: Run) {
        if !run.stopped.exchange(true, ordering: .relaxed) {
            counters.withLock { $0.stoppedByQuota += 1 }
        }
    }

    /// The profile's items as objects, in order, each once. Items that no
    /// longer name a regular file of this revision are skipped.
    private func resolve(directory: [UInt8], tree: CatalogTree) -> [Job] {
        var profilePath = directory
        profilePath.append(UInt8(ascii: "/"))
        let prefixCount = profilePath.count
        profilePath.append(contentsOf: StartupProfile.fileName.utf8)
        let label = String(decoding: profilePath, as: UTF8.self)
        let profile: StartupProfile
        do {
            guard let (_, entry) = try find(profilePath, tree: tree), let hash = entry.contentHash, !entry.isChunked,
                  entry.size <= Self.profileSizeLimit else {
                Log.notice("start-up profile \(label): not a regular file of at most 16 MiB, ignored")
                return []
            }
            profile = try StartupProfile(bytes: try provider.readObject(hash, compression: entry.compression, size: entry.size))
        } catch {
            Log.notice("start-up profile \(label): \(error), ignored")
            return []
        }
        var jobs: [Job] = []
        var seen = Set<ContentHash>()
        var path = profilePath
        for item in profile.items {
            path.removeSubrange(prefixCount...)
            path.append(contentsOf: item.path)
            guard let (catalog, entry) = try? find(path, tree: tree), entry.isRegular else { continue }
            if entry.isChunked {
                guard let chunks = try? catalog.catalog.chunks(of: entry) else { continue }
                for chunk in chunks where item.offset.map({ chunk.offset <= $0 && $0 < chunk.offset + chunk.size }) ?? true {
                    if seen.insert(chunk.hash).inserted {
                        jobs.append(Job(hash: chunk.hash, suffix: .partial, compression: entry.compression, size: chunk.size))
                    }
                }
            } else if let hash = entry.contentHash, seen.insert(hash).inserted {
                jobs.append(Job(hash: hash, suffix: .none, compression: entry.compression, size: entry.size))
            }
        }
        return jobs
    }

    private func find(_ path: [UInt8], tree: CatalogTree) throws -> (MountedCatalog, DirectoryEntry)? {
        let catalog = try tree.catalog(for: path, includeExact: false)
        guard let entry = try catalog.catalog.lookup(path.withUnsafeBytes { PathHash(path: $0) }) else { return nil }
        return (catalog, entry)
    }
}

/// What profile runs did since the mount (`talk profile info`, `stat -v`).
public struct ProfileStatistics: Sendable {
    /// Profiles started.
    public var runs = 0
    /// Objects and bytes fetched ahead of demand.
    public var objects = 0
    public var bytes: Int64 = 0
    /// Objects fetched ahead that a reader then asked for.
    public var hits = 0
    public var hitBytes: Int64 = 0
    /// Fetched ahead and not asked for (yet).
    public var wastedObjects = 0
    public var wastedBytes: Int64 = 0
    /// Fetches that failed (the reader fetches such an object itself).
    public var failed = 0
    /// Runs stopped because the cache quota would have been exceeded.
    public var stoppedByQuota = 0

    public init() {}
}
