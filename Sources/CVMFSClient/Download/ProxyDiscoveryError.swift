/// Why one PAC file gave no proxies; logged with the file's URL, and the next file is tried.
public enum ProxyDiscoveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The PAC file could not be downloaded.
    case unreachable(String)
    /// The file is not a JavaScript program libpacparser can run.
    case notJavaScript(String)
    /// `FindProxyForURL` is missing or threw.
    case evaluation(String)
    /// The JavaScript engine itself failed.
    case engine(String)
    /// The answer named no `PROXY` and no `DIRECT` entry (only SOCKS, say, or garbage).
    case noUsableProxy(answer: String)

    public var description: String {
        switch self {
        case .unreachable(let reason): return "cannot download it: \(reason)"
        case .notJavaScript(let reason): return "not a valid PAC script (JavaScript): \(reason)"
        case .evaluation(let reason): return "FindProxyForURL failed: \(reason)"
        case .engine(let reason): return "PAC engine failed: \(reason)"
        case .noUsableProxy(let answer):
            return "FindProxyForURL answered \"\(answer)\", which names no usable proxy (only PROXY host:port and DIRECT are supported)"
        }
    }
}
