import Glibc

/// A pthread mutex with its condition variable, for the few places that must
/// sleep until another thread changes shared state (`Mutex` from
/// Synchronization has no condition variable).
final class ConditionLock: @unchecked Sendable {  // the pthread objects are thread-safe by design
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

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

    /// Runs `body` holding the lock.
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the lock held (inside `withLock`): sleeps until `ready()` is true,
    /// releasing the lock while asleep.
    func wait(until ready: () -> Bool) {
        while !ready() { pthread_cond_wait(condition, mutex) }
    }

    /// With the lock held: wakes every waiter.
    func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
