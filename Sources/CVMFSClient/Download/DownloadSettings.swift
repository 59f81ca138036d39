/// Everything the downloader needs, already typed (docs/format/client-behaviour.md §3).
///
/// This is a plain value so that the downloader does not depend on the configuration parser:
/// the parser fills it from `CVMFS_*` variables and tests fill it directly. The proxy fields keep
/// upstream's string syntax because the parsing rules (groups, `DIRECT`, default scheme) belong to
/// `ProxyChain`, not to the configuration layer.
public struct DownloadSettings: Sendable, Equatable {
    /// `CVMFS_SERVER_URL` split on `;`, with `@fqrn@`/`@org@` already substituted. Order is the
    /// failover order.
    public var hosts: [String]
    /// `CVMFS_HTTP_PROXY` in upstream syntax (`a|b;c;DIRECT`).
    public var proxies: String
    /// `CVMFS_FALLBACK_PROXY`; empty when unset. `DIRECT` is refused here.
    public var fallbackProxies: String
    /// `CVMFS_TIMEOUT`: connect timeout and low-speed time, in seconds, when a proxy is used.
    public var timeoutSeconds: Int
    /// `CVMFS_TIMEOUT_DIRECT`: the same for `DIRECT` connections.
    public var timeoutDirectSeconds: Int
    /// `CVMFS_LOW_SPEED_LIMIT` in bytes/s: slower than this for the timeout period is a time-out.
    public var lowSpeedLimit: Int
    /// `CVMFS_MAX_RETRIES`: same-URL retries after a transfer error (docs/format/client-behaviour.md §5 step 2).
    public var maxRetries: Int
    /// `CVMFS_BACKOFF_INIT`: upper bound of the first random backoff.
    public var backoffInit: Duration
    /// `CVMFS_BACKOFF_MAX`: cap of the doubling backoff.
    public var backoffMax: Duration
    /// `CVMFS_PROXY_RESET_AFTER`: when to go back to the first proxy group; `.zero` = never.
    public var proxyResetAfter: Duration
    /// `CVMFS_HOST_RESET_AFTER`: when to go back to the first host; `.zero` = never.
    public var hostResetAfter: Duration
    /// `CVMFS_FOLLOW_REDIRECTS`: follow 301/302/303/307, at most four times.
    public var followRedirects: Bool
    /// `CVMFS_SWIFT_MAX_TRANSFERS`: the most transfers in flight at once (each on its own
    /// connection, kept alive for the next).
    public var maxTransfers: Int
    /// Sent as `User-Agent:` (docs/format/repository-layout.md §3.4: `cvmfs Fuse <version>`).
    public var userAgent: String

    /// The binary defaults of upstream (docs/format/client-behaviour.md §3, "Binary default" column).
    public init(
        hosts: [String],
        proxies: String,
        fallbackProxies: String = "",
        timeoutSeconds: Int = 5,
        timeoutDirectSeconds: Int = 5,
        lowSpeedLimit: Int = 1024,
        maxRetries: Int = 1,
        backoffInit: Duration = .seconds(2),
        backoffMax: Duration = .seconds(10),
        proxyResetAfter: Duration = .zero,
        hostResetAfter: Duration = .zero,
        followRedirects: Bool = false,
        maxTransfers: Int = 16,
        userAgent: String = "cvmfs Fuse \(MountSession.version)"
    ) {
        self.hosts = hosts
        self.proxies = proxies
        self.fallbackProxies = fallbackProxies
        self.timeoutSeconds = timeoutSeconds
        self.timeoutDirectSeconds = timeoutDirectSeconds
        self.lowSpeedLimit = lowSpeedLimit
        self.maxRetries = maxRetries
        self.backoffInit = backoffInit
        self.backoffMax = backoffMax
        self.proxyResetAfter = proxyResetAfter
        self.hostResetAfter = hostResetAfter
        self.followRedirects = followRedirects
        self.maxTransfers = maxTransfers
        self.userAgent = userAgent
    }
}
