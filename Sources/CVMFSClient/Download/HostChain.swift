/// The Stratum 1 URLs in failover order and the shared "current host" (docs/format/client-behaviour.md §4).
///
/// A value type without locking: `Downloader` keeps it inside its state `Mutex`.
public struct HostChain: Sendable, Equatable {
    /// Base URLs without a trailing slash, in failover order.
    public private(set) var hosts: [String]
    /// Index of the host new requests use.
    public private(set) var current = 0
    /// Bumped on every switch, so a request can tell whether its host is still the current one.
    public private(set) var generation: UInt64 = 0
    /// When the chain last left host 0; drives `CVMFS_HOST_RESET_AFTER`.
    private var leftFirstHostAt: ContinuousClock.Instant?

    /// Builds the chain from already-split URLs; trailing slashes are dropped so that
    /// `<host>/<path>` never has a double slash (some servers treat `//` differently).
    public init(_ hosts: [String]) throws(DownloadConfigurationError) {
        let cleaned = hosts.map { host -> String in
            var h = Substring(host).trimmingSpaces
            while h.hasSuffix("/") { h.removeLast() }
            return String(h)
        }.filter { !$0.isEmpty }
        if cleaned.isEmpty { throw .noHosts }
        self.hosts = cleaned
    }

    /// Parses `CVMFS_SERVER_URL`: `;`-separated URLs.
    public init(serverURL: String) throws(DownloadConfigurationError) {
        try self.init(serverURL.split(separator: ";").map(String.init))
    }

    /// The base URL new requests use.
    public var currentHost: String { hosts[current] }

    /// Moves round-robin to the next host, unless another request already moved away from the
    /// host this request used (`seenGeneration` is stale). Returns whether it moved.
    @discardableResult
    public mutating func fail(seenGeneration: UInt64, now: ContinuousClock.Instant) -> Bool {
        guard seenGeneration == generation else { return false }
        current = (current + 1) % hosts.count
        leftFirstHostAt = current == 0 ? nil : (leftFirstHostAt ?? now)
        generation &+= 1
        return true
    }

    /// Applies `CVMFS_HOST_RESET_AFTER`: back to host 0 once away from it for `after`.
    public mutating func resetIfDue(after: Duration, now: ContinuousClock.Instant) {
        guard after > .zero, current != 0, let left = leftFirstHostAt, now - left >= after else { return }
        current = 0
        leftFirstHostAt = nil
        generation &+= 1
    }

    /// Puts the hosts in `order` (0-based positions, a permutation) and
    /// starts again at the first: what the Geo API answered.
    public mutating func reorder(_ order: [Int]) {
        precondition(order.sorted() == Array(hosts.indices), "not a permutation of the hosts")
        hosts = order.map { hosts[$0] }
        current = 0
        leftFirstHostAt = nil
        generation &+= 1
    }

    /// `CVMFS_MAX_SERVERS`: only the first `count` hosts stay, after any Geo
    /// ordering, and the chain starts again at the first.
    public mutating func keepFirst(_ count: Int) {
        guard count >= 1, count < hosts.count else { return }
        hosts.removeLast(hosts.count - count)
        current = 0
        leftFirstHostAt = nil
        generation &+= 1
    }

    public static func == (lhs: HostChain, rhs: HostChain) -> Bool {
        lhs.hosts == rhs.hosts && lhs.current == rhs.current
    }
}
