/// One fetch's way through retries and failover (docs/format/client-behaviour.md
/// §5): after each failed attempt, what the next one is. Pure bookkeeping;
/// `Downloader.fetch` performs the attempts and moves the shared chains.
struct FailoverPlan {
    enum Step: Equatable {
        /// Bad data: the same URL once more, asking every cache for a fresh copy.
        case retryWithoutCache
        /// A transfer error: the same URL after this pause.
        case retry(after: Duration)
        /// The proxy failed: the next proxy of the group, same host.
        case nextProxy
        /// The host failed (or every proxy did): the next host, proxies back to the
        /// first group when `resetProxies`.
        case nextHost(resetProxies: Bool)
        /// Nothing left to try, or retrying cannot help.
        case giveUp
    }

    let hostCount: Int
    let maxRetries: Int
    /// Whether the coming attempt asks caches for a fresh copy.
    private(set) var noCache = false
    private var usedHosts = 1
    private var usedProxies = 1
    private var sameURLRetries = 0
    private var backoff = Duration.zero
    private let nextBackoff: (Duration) -> Duration

    /// `nextBackoff` gives the pause after the previous one (zero before the first).
    init(hostCount: Int, maxRetries: Int, nextBackoff: @escaping (Duration) -> Duration) {
        self.hostCount = hostCount
        self.maxRetries = maxRetries
        self.nextBackoff = nextBackoff
    }

    /// The step after an attempt failed with `failure` on a route whose proxy
    /// group has `proxyCount` members.
    mutating func step(after failure: FailureClass, proxyCount: Int) -> Step {
        // §5 step 1: bad data is retried once from the same URL, asking caches for a fresh copy.
        if failure == .badData && !noCache {
            noCache = true
            return .retryWithoutCache
        }
        // §5 step 2: transfer errors are retried on the same URL after a random backoff.
        if case .transfer = failure, sameURLRetries < maxRetries, !noCache {
            sameURLRetries += 1
            backoff = nextBackoff(backoff)
            return .retry(after: backoff)
        }
        let proxyFailed: Bool
        switch failure {
        case .proxy: proxyFailed = true
        case .transfer(let viaProxy): proxyFailed = viaProxy
        case .badData, .host: proxyFailed = false
        case .fatal: return .giveUp
        }
        // §5 step 3: burn the proxy and try the next one, until every proxy has had a go.
        if proxyFailed && usedProxies < proxyCount {
            usedProxies += 1
            return .nextProxy
        }
        // §5 step 3 (proxies exhausted) and step 4: next host, proxies back to the first group.
        guard usedHosts < hostCount else { return .giveUp }
        usedHosts += 1
        usedProxies = 1
        noCache = false
        return .nextHost(resetProxies: proxyFailed)
    }
}
