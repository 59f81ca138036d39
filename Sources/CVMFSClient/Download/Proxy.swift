/// One member of a proxy group: a proxy URL, or `DIRECT` (no proxy).
public enum Proxy: Sendable, Hashable, CustomStringConvertible {
    case direct
    /// A proxy URL, always with a scheme (`http://` is added when missing, `dns::AddDefaultScheme`).
    case url(String)

    /// Parses one `|`-separated member. An `auto` group is resolved by `ProxyDiscovery` before
    /// the chain is built, so one still here shares its group with other proxies: refused, since
    /// treating it as DIRECT could bypass a site's proxies.
    init(parsing text: Substring) throws(DownloadConfigurationError) {
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty { throw .emptyProxy }
        if trimmed == "DIRECT" {
            self = .direct
        } else if trimmed.lowercased() == "auto" {
            throw .autoProxyNotAlone
        } else if trimmed.contains("://") {
            self = .url(String(trimmed))
        } else {
            self = .url("http://" + trimmed)
        }
    }

    /// The text for `CURLOPT_PROXY`; the empty string disables every proxy, including one from
    /// the `http_proxy` environment variable, which `DIRECT` must not pick up.
    var curlValue: String {
        switch self {
        case .direct: return ""
        case .url(let url): return url
        }
    }

    /// `DIRECT` or the URL, as `cvmfs_talk proxy info` prints it.
    public var description: String {
        switch self {
        case .direct: return "DIRECT"
        case .url(let url): return url
        }
    }
}

extension Substring {
    /// Drops ASCII spaces and tabs on both sides; configuration values are often hand-edited.
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
