import CVMFSFormat

/// The misses the kernel was allowed to cache as negative entries, by parent
/// inode and name, so that a revision switch can take them back: a name missing
/// in one revision and present in the next must not stay hidden behind a
/// negative dentry for the rest of `CVMFS_KCACHE_TIMEOUT`.
///
/// Bounded: once `capacity` misses are logged, further misses are answered
/// uncached (the kernel asks again next time) until the next switch empties the
/// log. A name the kernel asks about again after its dentry expired is logged once.
struct KernelMissLog {
    let capacity: Int
    private var parents: [UInt64] = []
    private var nameEnds: [UInt32] = []
    private var names: [UInt8] = []
    private var logged: Set<PathHash> = []

    init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    var count: Int { parents.count }

    /// Logs a miss; false when the log is full and the kernel must not cache it.
    mutating func record(parent: UInt64, name: UnsafeRawBufferPointer, pathHash: PathHash) -> Bool {
        if logged.contains(pathHash) { return true }
        guard parents.count < capacity else { return false }
        logged.insert(pathHash)
        parents.append(parent)
        names.append(contentsOf: name)
        nameEnds.append(UInt32(names.count))
        return true
    }

    /// Every logged miss, and an empty log.
    mutating func takeAll() -> [(parent: UInt64, name: [UInt8])] {
        var result: [(parent: UInt64, name: [UInt8])] = []
        result.reserveCapacity(parents.count)
        var start = 0
        for (parent, end) in zip(parents, nameEnds) {
            result.append((parent, Array(names[start..<Int(end)])))
            start = Int(end)
        }
        self = KernelMissLog(capacity: capacity)
        return result
    }
}
