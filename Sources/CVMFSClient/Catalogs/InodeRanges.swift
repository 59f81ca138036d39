import Synchronization

/// Hands out the inode ranges of a mount's catalogs, over all its revisions
/// (docs/format/catalogs.md §10). One allocator is shared by every revision's
/// tree: an old tree may still attach a nested catalog after a new revision is
/// mounted (a lookup that began before the switch), and its range must not run
/// into the new tree's, or two entries would share an inode the kernel holds.
public final class InodeRanges: Sendable {
    /// The next free offset: a catalog's inodes are its row ids plus its offset.
    private let next: Mutex<UInt64>

    /// Inode 1 is the mount's root; catalog rows start past 255.
    public init(firstOffset: UInt64 = 255) {
        next = Mutex(firstOffset)
    }

    /// Reserves `count` inodes and returns their offset.
    func reserve(_ count: UInt64) -> UInt64 {
        next.withLock { next in
            let offset = next
            next = next &+ count
            return offset
        }
    }

    /// One past the largest inode handed out so far (`user.inode_max`).
    public var limit: UInt64 { next.withLock { $0 } }
}
