/// How urgent a transfer is: a reader waiting for the bytes, or work done ahead of demand
/// (start-up profiles, chunk read-ahead).
public enum TransferPriority: Sendable {
    case demand
    case background
}

/// Bounds the transfers one `Downloader` has in flight (`CVMFS_SWIFT_MAX_TRANSFERS`) and lets
/// demand go first: background transfers leave a quarter of the slots (at least one) to demand,
/// and never take a slot while a demand transfer waits for one. So a reader waits at most for a
/// free slot, never behind a queue of fetches ahead of it.
///
/// `@unchecked Sendable`: every counter is read and written with `lock` held.
final class TransferGate: @unchecked Sendable {
    let capacity: Int
    /// The most slots background transfers may hold at once.
    let backgroundCapacity: Int
    private let lock = ConditionLock()
    private var active = 0             // protected by lock
    private var activeBackground = 0   // protected by lock
    private var waitingDemand = 0      // protected by lock

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        backgroundCapacity = max(1, self.capacity - max(1, self.capacity / 4))
    }

    /// Blocks until the transfer may start.
    func enter(_ priority: TransferPriority) {
        lock.withLock {
            switch priority {
            case .demand:
                waitingDemand += 1
                lock.wait { active < capacity }
                waitingDemand -= 1
            case .background:
                lock.wait { active < capacity && activeBackground < backgroundCapacity && waitingDemand == 0 }
                activeBackground += 1
            }
            active += 1
        }
    }

    func leave(_ priority: TransferPriority) {
        lock.withLock {
            active -= 1
            if priority == .background { activeBackground -= 1 }
            lock.broadcast()
        }
    }

    /// Transfers in flight now, for `talk internal affairs`.
    var inFlight: (demand: Int, background: Int) {
        lock.withLock { (active - activeBackground, activeBackground) }
    }
}
