import Synchronization
import CVMFSFormat

/// The directories of one revision whose start-up profile has not been
/// started yet, learnt from the `cvmfs_swift_profiles` property of each
/// catalog as it is attached (docs/profiles.md). A lookup checks one relaxed
/// atomic while none is pending.
public final class ProfiledDirectories: Sendable {
    private let pendingCount = Atomic<Int>(0)
    private let pending = Mutex<[PathHash: [UInt8]]>([:])

    init() {}

    /// Registers the directories a newly attached catalog names.
    func register(_ catalog: Catalog) {
        guard let listed = catalog.property(StartupProfile.catalogProperty) else { return }
        let paths = listed.split(separator: "\n").map { Array($0.utf8) }.filter { $0.first == UInt8(ascii: "/") }
        guard !paths.isEmpty else { return }
        pending.withLock { map in
            for path in paths { map[path.withUnsafeBytes { PathHash(path: $0) }] = path }
            pendingCount.store(map.count, ordering: .relaxed)
        }
    }

    var hasPending: Bool { pendingCount.load(ordering: .relaxed) > 0 }

    /// The directory's path the first time its hash is claimed; nil after.
    func claim(_ hash: PathHash) -> [UInt8]? {
        pending.withLock { map in
            guard let path = map.removeValue(forKey: hash) else { return nil }
            pendingCount.store(map.count, ordering: .relaxed)
            return path
        }
    }
}
