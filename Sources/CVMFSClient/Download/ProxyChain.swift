/// Proxy groups in failover order and the shared "current proxy" (docs/format/client-behaviour.md §4).
///
/// Groups are tried in order; members of a group are load-balanced by picking one random
/// unburned member. A failed member is burned; when all of a group's members are burned, the
/// chain moves to the next group (round-robin). Upstream also expands each proxy name into one
/// member per IP address; we leave resolution to libcurl's DNS cache, so a name is one member.
///
/// This is a value type without locking: `Downloader` keeps it inside its state `Mutex`.
public struct ProxyChain: Sendable, Equatable {
    /// The groups, regular ones first, then those from `CVMFS_FALLBACK_PROXY`.
    public let groups: [[Proxy]]
    /// Index of the first fallback group (`groups.count` when there is none).
    public let fallbackStart: Int
    /// Index of the group in use.
    public private(set) var currentGroup = 0
    /// Index of the member in use inside `currentGroup`.
    public private(set) var currentMember = 0
    /// Bumped on every switch, so a request can tell whether the proxy it used is still current.
    public private(set) var generation: UInt64 = 0
    /// Members of the current group that failed since the group was entered.
    private var burned: Set<Int> = []
    /// When the chain last left the first group; drives `CVMFS_PROXY_RESET_AFTER`.
    private var leftFirstGroupAt: ContinuousClock.Instant?

    /// Parses `CVMFS_HTTP_PROXY` and `CVMFS_FALLBACK_PROXY` (§4): `;` separates groups, `|`
    /// members. With a non-empty fallback list, `DIRECT` members are dropped from the regular
    /// list (and groups left empty by that vanish); `DIRECT` in the fallback list is an error.
    public init(proxies: String, fallback: String = "") throws(DownloadConfigurationError) {
        var regular = try Self.parseGroups(proxies)
        let fallbackGroups = try Self.parseGroups(fallback)
        if fallbackGroups.contains(where: { $0.contains(.direct) }) { throw .directInFallback }
        if !fallbackGroups.isEmpty {
            regular = regular.map { $0.filter { $0 != .direct } }.filter { !$0.isEmpty }
        }
        groups = regular + fallbackGroups
        fallbackStart = regular.count
        if groups.isEmpty { throw .noProxies }
        currentMember = Int.random(in: 0..<groups[0].count)
    }

    private static func parseGroups(_ text: String) throws(DownloadConfigurationError) -> [[Proxy]] {
        let trimmed = Substring(text).trimmingSpaces
        if trimmed.isEmpty { return [] }
        var result: [[Proxy]] = []
        for group in trimmed.split(separator: ";", omittingEmptySubsequences: false) {
            var members: [Proxy] = []
            for member in group.split(separator: "|", omittingEmptySubsequences: false) {
                members.append(try Proxy(parsing: member))
            }
            result.append(members)
        }
        return result
    }

    /// The proxy that new requests use.
    public var current: Proxy { groups[currentGroup][currentMember] }

    /// Number of proxies over all groups: a request gives up on proxies (and fails over to the
    /// next host) after using this many (§5 step 3).
    public var memberCount: Int { groups.reduce(0) { $0 + $1.count } }

    /// Burns the proxy a request used and moves to another one, but only when `generation` still
    /// equals the generation the request saw: a concurrent request that failed on the same proxy
    /// must not move the pointer a second time (§5, last paragraph). Returns whether it moved.
    @discardableResult
    public mutating func fail(seenGeneration: UInt64, now: ContinuousClock.Instant) -> Bool {
        guard seenGeneration == generation else { return false }
        burned.insert(currentMember)
        let live = groups[currentGroup].indices.filter { !burned.contains($0) }
        if let next = live.randomElement() {
            currentMember = next
        } else {
            enterGroup((currentGroup + 1) % groups.count, now: now)
        }
        generation &+= 1
        return true
    }

    /// Goes back to the first group, as a host failover does after the proxies are exhausted.
    public mutating func resetToFirstGroup(now: ContinuousClock.Instant) {
        guard currentGroup != 0 || !burned.isEmpty else { return }
        enterGroup(0, now: now)
        generation &+= 1
    }

    /// Applies `CVMFS_PROXY_RESET_AFTER`: returns to the first group once the chain has been on a
    /// backup group for `after`. `.zero` means never.
    public mutating func resetIfDue(after: Duration, now: ContinuousClock.Instant) {
        guard after > .zero, currentGroup != 0, let left = leftFirstGroupAt, now - left >= after else { return }
        resetToFirstGroup(now: now)
    }

    private mutating func enterGroup(_ index: Int, now: ContinuousClock.Instant) {
        currentGroup = index
        burned = []
        currentMember = Int.random(in: 0..<groups[index].count)
        leftFirstGroupAt = index == 0 ? nil : (leftFirstGroupAt ?? now)
    }

    public static func == (lhs: ProxyChain, rhs: ProxyChain) -> Bool {
        lhs.groups == rhs.groups && lhs.fallbackStart == rhs.fallbackStart
            && lhs.currentGroup == rhs.currentGroup && lhs.currentMember == rhs.currentMember
    }
}
