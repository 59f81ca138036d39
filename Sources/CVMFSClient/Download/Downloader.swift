import CVMFSCurl
import Glibc
import Synchronization

/// Fetches files from the Stratum 1 host chain through the proxy chain, with retries and
/// failover (docs/format/client-behaviour.md §4–5).
///
/// Thread-safe: any number of threads (FUSE workers) may call `fetch` at once. Shared state
/// sits behind three `Mutex`es, each named where it is declared; none is held during a transfer
/// or a backoff sleep, and none is taken while another is held.
public final class Downloader: Sendable {
    /// The settings this downloader was built with.
    public let settings: DownloadSettings
    /// The host and proxy chains with their shared "current" pointers.
    let chains: Mutex<Chains>
    /// Idle easy handles. One per concurrent caller at most; they keep their connections open.
    private let pool: Mutex<[CurlHandle]>
    /// Counters over all fetches.
    private let counters: Mutex<DownloadStatistics>
    private let share: CurlShare
    /// `firstByteLatency`, in nanoseconds.
    private let firstByteNanoseconds = Atomic<Int>(0)
    /// Bounds the transfers in flight; demand before background.
    private let gate: TransferGate

    /// What `chains` guards: both shared "current" pointers, updated together.
    struct Chains {
        var hosts: HostChain
        var proxies: ProxyChain
    }

    /// Parses the host and proxy lists; refuses `auto`, `DIRECT` in the fallback list and empty
    /// lists (`DownloadConfigurationError`).
    public init(settings: DownloadSettings) throws(DownloadConfigurationError) {
        self.settings = settings
        chains = Mutex(Chains(
            hosts: try HostChain(settings.hosts),
            proxies: try ProxyChain(proxies: settings.proxies, fallback: settings.fallbackProxies)
        ))
        pool = Mutex([])
        counters = Mutex(DownloadStatistics())
        share = try CurlShare()
        gate = TransferGate(capacity: settings.maxTransfers)
    }

    /// A snapshot of the counters.
    public var statistics: DownloadStatistics { counters.withLock { $0 } }

    /// How many background transfers may run at once.
    public var backgroundTransferSlots: Int { gate.backgroundCapacity }

    /// Transfers in flight now, by priority.
    public var transfersInFlight: (demand: Int, background: Int) { gate.inFlight }

    /// The host new requests go to (`user.host`).
    public var currentHost: String { chains.withLock { $0.hosts.currentHost } }

    /// The proxy new requests use (`user.proxy`).
    public var currentProxy: Proxy { chains.withLock { $0.proxies.current } }

    /// A snapshot of the host chain, for `cvmfs_talk host info`.
    public var hostChain: HostChain { chains.withLock { $0.hosts } }
    /// A snapshot of the proxy chain, for `cvmfs_talk proxy info`.
    public var proxyChain: ProxyChain { chains.withLock { $0.proxies } }

    /// Downloads `<current host>/<relativePath>` into `sink`, retrying and failing over as §5
    /// describes. On success the sink's `finish()` has accepted the body. Waits first for one
    /// of the `maxTransfers` slots; a `.background` fetch also waits while demand does.
    public func fetch(_ relativePath: String, into sink: some DownloadSink,
                      priority: TransferPriority = .demand) throws(DownloadError) -> DownloadReport {
        let clock = ContinuousClock()
        let started = clock.now
        gate.enter(priority)
        defer { gate.leave(priority) }
        let handle = try takeHandle()
        defer { pool.withLock { $0.append(handle) } }
        let path = relativePath.hasPrefix("/") ? String(relativePath.dropFirst()) : relativePath

        var route = currentRoute(now: started)
        var plan = FailoverPlan(hostCount: route.hostCount, maxRetries: settings.maxRetries) { [self] in nextBackoff(after: $0) }
        var attempts = 0
        var hostErrors: [DownloadError] = []
        while true {
            if attempts > 0 {
                do { try sink.reset() } catch {
                    counters.withLock { $0.failedDownloads += 1 }
                    throw .sinkReset(url: route.url(path), reason: "\(error)")
                }
            }
            attempts += 1
            let attemptStart = clock.now
            let outcome = attempt(handle, route: route, path: path, noCache: plan.noCache, sink: sink)
            let elapsed = clock.now - attemptStart
            let error: DownloadError, failure: FailureClass
            switch outcome {
            case .success(let bytes):
                counters.withLock { $0.noteDownload(bytes: bytes, took: elapsed) }
                return DownloadReport(url: route.url(path), host: route.host, proxy: route.proxy, bytes: bytes,
                                      retries: attempts - 1, duration: clock.now - started)
            case let .failure(e, f):
                (error, failure) = (e, f)
                counters.withLock { $0.noteFailedRequest(took: elapsed) }
            }
            switch plan.step(after: failure, proxyCount: route.proxyCount) {
            case .retryWithoutCache:
                counters.withLock { $0.retries += 1 }
            case .retry(let pause):
                counters.withLock { $0.retries += 1 }
                Self.sleep(pause)
            case .nextProxy:
                route = switchProxy(from: route, now: clock.now)
            case .nextHost(let resetProxies):
                hostErrors.append(error)
                route = switchHost(from: route, resetProxies: resetProxies, now: clock.now)
            case .giveUp:
                counters.withLock { $0.failedDownloads += 1 }
                if failure == .fatal { throw error }
                hostErrors.append(error)
                throw .allHostsFailed(path: path, errors: hostErrors)
            }
        }
    }

    /// Downloads a small file into memory without a hash check, for the manifest and the
    /// whitelist (which are verified by signature instead). Bodies over `limit` are refused.
    public func fetchToMemory(_ path: String, limit: Int) throws(DownloadError) -> [UInt8] {
        let sink = MemorySink(limit: limit)
        _ = try fetch(path, into: sink)
        return sink.bytes
    }

    // MARK: - One attempt

    private func attempt(_ handle: CurlHandle, route: DownloadRoute, path: String, noCache: Bool, sink: some DownloadSink) -> AttemptOutcome {
        let url = route.url(path)
        let context = TransferContext(easy: handle.easy, sink: sink)
        let timeout = route.proxy == .direct ? settings.timeoutDirectSeconds : settings.timeoutSeconds
        let code = handle.perform(url: url, proxy: route.proxy, timeoutSeconds: timeout, noCache: noCache, context: context)
        let viaProxy = route.proxy != .direct
        if let sinkError = context.sinkError {
            if let local = sinkError as? any LocalSinkFailure, local.isLocal {
                return .failure(.refusedLocally(url: url, reason: "\(sinkError)"), .fatal)
            }
            return .failure(.badData(url: url, host: route.host, proxy: route.proxy, reason: "\(sinkError)"), .badData)
        }
        guard code == .ok else {
            let error = DownloadError.transfer(url: url, host: route.host, proxy: route.proxy, code: code, message: handle.message(for: code))
            let httpURL = url.hasPrefix("http://") || url.hasPrefix("https://")
            return .failure(error, .curl(code, viaProxy: viaProxy, httpURL: httpURL))
        }
        let status = handle.responseCode
        guard (200..<300).contains(status) else {
            let failure = FailureClass.http(status: status, proxyErrorHeader: context.proxyErrorHeader, viaProxy: viaProxy)
            let error: DownloadError
            switch failure {
            case .proxy:
                error = .proxyHTTP(url: url, host: route.host, proxy: route.proxy, status: status,
                                   reason: context.proxyErrorHeader ?? "unexpected status through a proxy")
            case .transfer:
                error = .tooManyRequests(url: url, host: route.host, proxy: route.proxy)
            default:
                error = .hostHTTP(url: url, host: route.host, proxy: route.proxy, status: status)
            }
            return .failure(error, failure)
        }
        do {
            try sink.finish()
        } catch {
            return .failure(.badData(url: url, host: route.host, proxy: route.proxy, reason: "\(error)"), .badData)
        }
        noteFirstByte(seconds: handle.easy.firstByteSeconds)
        return .success(bytes: context.bytes)
    }

    // MARK: - Latency

    /// The time to the first response byte of recent successful transfers (a
    /// moving average over about four), 0 before the first: about one round
    /// trip to the server the requests go to, which sizes the read-ahead.
    public var firstByteLatency: Duration { .nanoseconds(firstByteNanoseconds.load(ordering: .relaxed)) }

    private func noteFirstByte(seconds: Double) {
        let sample = Int(seconds * 1e9)
        var old = firstByteNanoseconds.load(ordering: .relaxed)
        while true {
            let new = old == 0 ? sample : (3 * old + sample) / 4
            let (exchanged, original) = firstByteNanoseconds.compareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    // MARK: - Shared pointers

    private func takeHandle() throws(DownloadError) -> CurlHandle {
        if let idle = pool.withLock({ $0.popLast() }) { return idle }
        do {
            return try CurlHandle(share: share, settings: settings)
        } catch {
            // Only allocation failures get here; libcurl's options were accepted at init time.
            fatalError("cannot create a libcurl easy handle: \(error)")
        }
    }

    /// The route new requests take, after applying `CVMFS_HOST_RESET_AFTER` and
    /// `CVMFS_PROXY_RESET_AFTER`.
    private func currentRoute(now: ContinuousClock.Instant) -> DownloadRoute {
        chains.withLock { chains in
            chains.hosts.resetIfDue(after: settings.hostResetAfter, now: now)
            chains.proxies.resetIfDue(after: settings.proxyResetAfter, now: now)
            return Self.route(chains)
        }
    }

    private static func route(_ chains: Chains) -> DownloadRoute {
        DownloadRoute(
            host: chains.hosts.currentHost, hostGeneration: chains.hosts.generation,
            proxy: chains.proxies.current, proxyGeneration: chains.proxies.generation,
            hostCount: chains.hosts.hosts.count, proxyCount: chains.proxies.memberCount
        )
    }

    private func switchProxy(from route: DownloadRoute, now: ContinuousClock.Instant) -> DownloadRoute {
        let (moved, next) = chains.withLock { chains in
            let moved = chains.proxies.fail(seenGeneration: route.proxyGeneration, now: now)
            return (moved, Self.route(chains))
        }
        if moved { counters.withLock { $0.proxySwitches += 1 } }
        return next
    }

    private func switchHost(from route: DownloadRoute, resetProxies: Bool, now: ContinuousClock.Instant) -> DownloadRoute {
        let (moved, next) = chains.withLock { chains in
            let moved = chains.hosts.fail(seenGeneration: route.hostGeneration, now: now)
            if moved && resetProxies { chains.proxies.resetToFirstGroup(now: now) }
            return (moved, Self.route(chains))
        }
        if moved { counters.withLock { $0.hostSwitches += 1 } }
        return next
    }

    // MARK: - Backoff

    /// §5 step 2: the first backoff is random in [0, init], each later one doubles, capped at max.
    private func nextBackoff(after previous: Duration) -> Duration {
        if previous == .zero {
            let initMs = max(Int64(0), Self.milliseconds(settings.backoffInit))
            return .milliseconds(Int64.random(in: 0...initMs))
        }
        return min(previous * 2, settings.backoffMax)
    }

    private static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    private static func sleep(_ d: Duration) {
        var request = timespec(tv_sec: Int(d.components.seconds), tv_nsec: Int(d.components.attoseconds / 1_000_000_000))
        var remaining = timespec()
        // nanosleep returns early on a signal; sleep the rest.
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
