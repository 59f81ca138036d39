import Synchronization

/// How many catalogs of a mount are open, over all its revisions: those of the
/// mounted revision, and those of older revisions that inodes, listings or open
/// files the kernel still holds keep alive (`talk internal affairs`). After a
/// switch, once the kernel has let go of the old revision, the two are equal.
public final class CatalogCensus: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    public var open: Int { count.load(ordering: .relaxed) }

    func opened() { count.add(1, ordering: .relaxed) }
    func closed() { count.subtract(1, ordering: .relaxed) }
}
