import CVMFSFormat

/// Path hashes known not to exist in the mounted revision, so that a search
/// path probed again and again (`PATH`, `PYTHONPATH`, `LD_LIBRARY_PATH`) costs
/// no catalog query once the kernel's own negative dentry has expired.
///
/// Bounded: two generations of at most `capacity` hashes each. When the
/// current one fills, it becomes the previous one and the older is dropped,
/// so memory stays under `2 × capacity` hashes however many different
/// missing names a mount sees, and a name missed recently is still there.
struct NegativeLookupCache {
    let capacity: Int
    private var current: Set<PathHash> = []
    private var previous: Set<PathHash> = []

    init(capacity: Int = 16_384) {
        self.capacity = capacity
    }

    func contains(_ hash: PathHash) -> Bool {
        current.contains(hash) || previous.contains(hash)
    }

    mutating func insert(_ hash: PathHash) {
        if current.count >= capacity {
            previous = current
            current = []
            current.reserveCapacity(capacity)
        }
        current.insert(hash)
    }

    /// Hashes held now (at most `2 × capacity`).
    var count: Int { current.count + previous.count }

    /// A new revision: every miss may exist now.
    mutating func removeAll() {
        current.removeAll()
        previous.removeAll()
    }
}
