import Glibc
import CVMFSFormat

/// Fetches the chunks after the one a sequential reader is in, on two
/// background threads, so that download, hash check and inflate of the next
/// chunks run on the other core while the kernel reads the current one. The
/// cache's in-flight table makes a reader wait for a chunk already on its
/// way instead of fetching it twice.
///
/// The queue is bounded and deduplicated; what does not fit is dropped (the
/// reader fetches it on demand). Jobs hold no pins: a prefetched chunk is an
/// ordinary unpinned cache object, and `ObjectProvider.prefetch` skips it
/// when the cache has no room to spare.
///
/// `@unchecked Sendable`: `queue` and `threads` are only touched while
/// holding `lock`.
final class ChunkPrefetcher: @unchecked Sendable {
    /// Chunks fetched ahead of the one being read.
    static let depth = 3
    static let threadCount = 2
    static let queueLimit = 16

    static let shared = ChunkPrefetcher()

    struct Job {
        var hash: ContentHash
        var compression: Compression
        var size: UInt64
        var provider: any ObjectProvider
    }

    private let lock = ConditionLock()
    private var queue: [Job] = []          // protected by lock
    private var threads = 0                // protected by lock

    private init() {}

    /// Queues the chunks (in order) unless already queued; starts the worker
    /// threads on first use.
    func enqueue(_ jobs: [Job]) {
        let start = lock.withLock { () -> Int in
            for job in jobs where queue.count < Self.queueLimit && !queue.contains(where: { $0.hash == job.hash }) {
                queue.append(job)
            }
            let start = Self.threadCount - threads
            threads = Self.threadCount
            lock.broadcast()
            return start
        }
        for _ in 0..<max(start, 0) { spawn() }
    }

    private func spawn() {
        if !spawnDetachedThread({ self.work() }) {
            lock.withLock { threads -= 1 }
        }
    }

    private func work() -> Never {
        while true {
            let job = lock.withLock { () -> Job in
                lock.wait { !queue.isEmpty }
                return queue.removeFirst()
            }
            _ = job.provider.prefetch(job.hash, compression: job.compression, expectedSize: job.size)
        }
    }
}
