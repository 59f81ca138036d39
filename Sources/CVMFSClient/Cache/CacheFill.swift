/// One download in progress: the in-flight table maps a hash to it, and every
/// other thread that wants the object waits here for the producer.
///
/// `@unchecked Sendable`: `done` and `error` are read and written only
/// while holding `lock`.
final class CacheFill: @unchecked Sendable {
    private let lock = ConditionLock()
    private var done = false       // protected by lock
    private var error: CacheError? // protected by lock

    /// Blocks until the producer finished; returns its error, if any.
    func wait() -> CacheError? {
        lock.withLock {
            lock.wait { done }
            return error
        }
    }

    /// Called once by the producer; wakes every waiter.
    func complete(_ failure: CacheError?) {
        lock.withLock {
            done = true
            error = failure
            lock.broadcast()
        }
    }
}
