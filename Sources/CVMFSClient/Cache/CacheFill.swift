#if canImport(Glibc)
import Glibc
#endif

/// One download in progress: the in-flight table maps a hash to it, and every
/// other thread that wants the object waits here for the producer.
///
/// `@unchecked Sendable`: `done` and `error` are read and written only while
/// holding `mutex` (a pthread mutex, paired with `condition`; `Mutex` from
/// Synchronization has no condition variable).
final class CacheFill: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var done = false       // protected by mutex
    private var error: CacheError? // protected by mutex

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Blocks until the producer finished; returns its error, if any.
    func wait() -> CacheError? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !done { pthread_cond_wait(condition, mutex) }
        return error
    }

    /// Called once by the producer; wakes every waiter.
    func complete(_ failure: CacheError?) {
        pthread_mutex_lock(mutex)
        done = true
        error = failure
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
