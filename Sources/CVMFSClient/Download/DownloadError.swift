import CVMFSCurl

/// Why a fetch failed. Every case names the URL, host and proxy involved.
public enum DownloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An HTTP status the host answered with (404, 5xx, 400, unfollowed redirects, ...).
    case hostHTTP(url: String, host: String, proxy: Proxy, status: Int)
    /// An HTTP error the proxy generated: the response carried `X-Squid-Error:` or a
    /// `Proxy-Status:` with `error=` (`reason` is that header's value), or an unusual status
    /// seen through a proxy.
    case proxyHTTP(url: String, host: String, proxy: Proxy, status: Int, reason: String)
    /// HTTP 429: the host asks us to slow down; treated as a host connection error
    /// (docs/format/client-behaviour.md §5).
    case tooManyRequests(url: String, host: String, proxy: Proxy)
    /// libcurl failed the transfer (resolve, connect, time-out, short transfer, ...).
    case transfer(url: String, host: String, proxy: Proxy, code: CurlCode, message: String)
    /// The body was refused by the sink (hash mismatch, corrupt zlib, too large).
    case badData(url: String, host: String, proxy: Proxy, reason: String)
    /// The sink could not be reset before a retry; retrying elsewhere would not help.
    case sinkReset(url: String, reason: String)
    /// The sink refused the body for a reason of this machine's (the cache quota, the disk):
    /// another server's copy would be refused the same way, so the fetch ends.
    case refusedLocally(url: String, reason: String)
    /// Failover ran out of hosts; one entry per host attempt, in order, each with its last error.
    case allHostsFailed(path: String, errors: [DownloadError])

    public var description: String {
        switch self {
        case let .hostHTTP(url, _, proxy, status):
            return "\(url) via \(proxy): HTTP \(status) from the host"
        case let .proxyHTTP(url, _, proxy, status, reason):
            return "\(url) via \(proxy): HTTP \(status) from the proxy (\(reason))"
        case let .tooManyRequests(url, _, proxy):
            return "\(url) via \(proxy): HTTP 429 too many requests"
        case let .transfer(url, _, proxy, code, message):
            return "\(url) via \(proxy): \(message) (CURLcode \(code.rawValue))"
        case let .badData(url, _, proxy, reason):
            return "\(url) via \(proxy): bad data: \(reason)"
        case let .sinkReset(url, reason):
            return "\(url): cannot reset the download sink: \(reason)"
        case let .refusedLocally(url, reason):
            return "\(url): \(reason)"
        case let .allHostsFailed(path, errors):
            return "\(path): all hosts failed: " + errors.map(\.description).joined(separator: "; ")
        }
    }

    /// The host of a single-attempt error; `nil` for the aggregate cases.
    public var host: String? {
        switch self {
        case let .hostHTTP(_, host, _, _), let .proxyHTTP(_, host, _, _, _), let .tooManyRequests(_, host, _),
             let .transfer(_, host, _, _, _), let .badData(_, host, _, _):
            return host
        case .sinkReset, .refusedLocally, .allHostsFailed:
            return nil
        }
    }
}
