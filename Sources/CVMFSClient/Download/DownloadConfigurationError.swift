/// Why host or proxy settings were refused before any download was tried.
public enum DownloadConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `CVMFS_SERVER_URL` yielded no host.
    case noHosts
    /// `CVMFS_HTTP_PROXY` (plus fallback) yielded no proxy group; upstream fails the mount then.
    case noProxies
    /// An empty member between `|` or an empty group between `;`.
    case emptyProxy
    /// `auto` shared a group with other proxies; discovery replaces whole groups only.
    case autoProxyNotAlone
    /// `DIRECT` appeared in `CVMFS_FALLBACK_PROXY`, which upstream forbids.
    case directInFallback
    /// libcurl could not be set up (with `curl_easy_strerror`/`curl_share_strerror` text).
    case curlSetup(String)

    public var description: String {
        switch self {
        case .noHosts: return "CVMFS_SERVER_URL: no server URL given"
        case .noProxies: return "CVMFS_HTTP_PROXY: no proxy given (use DIRECT for no proxy)"
        case .emptyProxy: return "CVMFS_HTTP_PROXY: empty proxy entry"
        case .autoProxyNotAlone:
            return "CVMFS_HTTP_PROXY: 'auto' (proxy auto-discovery) must be a group of its own, between ';' (as in auto;DIRECT)"
        case .directInFallback: return "CVMFS_FALLBACK_PROXY: DIRECT is not allowed in the fallback proxy list"
        case .curlSetup(let message): return "libcurl setup failed: \(message)"
        }
    }
}
