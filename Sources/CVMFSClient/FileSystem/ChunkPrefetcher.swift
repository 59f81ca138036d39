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
/// holding `mutex` (a pthread mutex paired with `condition`).
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

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [Job] = []          // protected by mutex
    private var threads = 0                // protected by mutex

    private init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    /// Queues the chunks (in order) unless already queued; starts the worker
    /// threads on first use.
    func enqueue(_ jobs: [Job]) {
        pthread_mutex_lock(mutex)
        for job in jobs where queue.count < Self.queueLimit && !queue.contains(where: { $0.hash == job.hash }) {
            queue.append(job)
        }
        let start = Self.threadCount - threads
        threads = Self.threadCount
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for _ in 0..<max(start, 0) { spawn() }
    }

    private func spawn() {
        var thread = pthread_t()
        let box = Unmanaged.passUnretained(self).toOpaque()  // `shared` lives forever
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<ChunkPrefetcher>.fromOpaque(raw!).takeUnretainedValue().work()
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            pthread_mutex_lock(mutex)
            threads -= 1
            pthread_mutex_unlock(mutex)
        }
    }

    private func work() -> Never {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty { pthread_cond_wait(condition, mutex) }
            let job = queue.removeFirst()
            pthread_mutex_unlock(mutex)
            _ = job.provider.prefetch(job.hash, compression: job.compression, expectedSize: job.size)
        }
    }
}
