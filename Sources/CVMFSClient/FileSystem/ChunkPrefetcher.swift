import Glibc
import CVMFSFormat

/// Fetches the chunks after the one a sequential reader is in, on background
/// threads, so that download, hash check and inflate of the next chunks
/// overlap the kernel's reading of the current one. The cache's in-flight
/// table makes a reader wait for a chunk already on its way instead of
/// fetching it twice.
///
/// How far ahead follows the network: three chunks on a LAN, one more per
/// 25 ms of the downloader's first-byte latency, at most eight, so that at a
/// stratum-1's 100 ms the fetches in flight still cover a round trip
/// (integration/bench/readahead-bench.sh). Each chunk ahead has its own
/// thread and transfer; the downloader's gate keeps them within the
/// background share of `CVMFS_SWIFT_MAX_TRANSFERS`.
///
/// The queue is bounded and deduplicated; what does not fit is dropped (the
/// reader fetches it on demand). Jobs hold no pins: a prefetched chunk is an
/// ordinary unpinned cache object, and `ObjectProvider.prefetch` skips it
/// when the cache has no room to spare. Owned by the mount: `stop()` ends
/// the threads once their current fetch is done.
///
/// `@unchecked Sendable`: `queue`, `threads` and `stopped` are only touched
/// while holding `lock`.
public final class ChunkPrefetcher: @unchecked Sendable {
    static let minimumDepth = 3
    static let maximumDepth = 8
    static let latencyPerExtraChunk: Duration = .milliseconds(25)
    static let queueLimit = 16

    struct Job {
        var hash: ContentHash
        var compression: Compression
        var size: UInt64
        var provider: any ObjectProvider
    }

    private let latency: @Sendable () -> Duration
    private let lock = ConditionLock()
    private var queue: [Job] = []          // protected by lock
    private var threads = 0                // protected by lock
    private var stopped = false            // protected by lock

    /// `latency` is the current round-trip estimate (`Downloader.firstByteLatency`).
    public init(latency: @escaping @Sendable () -> Duration) {
        self.latency = latency
    }

    /// Chunks to fetch ahead of the one being read, for the current latency.
    var depth: Int {
        let extra = (latency() / Self.latencyPerExtraChunk).rounded(.up)
        return min(Self.maximumDepth, Self.minimumDepth + Int(max(0, min(extra, 100))))
    }

    /// Queues the chunks (in order) unless already queued, with one worker
    /// thread per queued chunk up to the maximum depth.
    func enqueue(_ jobs: [Job]) {
        let start = lock.withLock { () -> Int in
            guard !stopped else { return 0 }
            for job in jobs where queue.count < Self.queueLimit && !queue.contains(where: { $0.hash == job.hash }) {
                queue.append(job)
            }
            let wanted = min(Self.maximumDepth, queue.count)
            let start = max(0, wanted - threads)
            threads += start
            lock.broadcast()
            return start
        }
        for _ in 0..<start { spawn() }
    }

    /// Drops what is queued and lets every worker exit after its current fetch.
    public func stop() {
        lock.withLock {
            stopped = true
            queue.removeAll()
            lock.broadcast()
        }
    }

    private func spawn() {
        if !spawnDetachedThread({ self.work() }) {
            lock.withLock { threads -= 1 }
        }
    }

    private func work() {
        while let job = next() {
            _ = job.provider.prefetch(job.hash, compression: job.compression, expectedSize: job.size)
        }
    }

    /// The next job, or nil once stopped.
    private func next() -> Job? {
        lock.withLock { () -> Job? in
            lock.wait { stopped || !queue.isEmpty }
            if stopped {
                threads -= 1
                return nil
            }
            return queue.removeFirst()
        }
    }
}
