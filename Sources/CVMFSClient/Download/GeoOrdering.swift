/// The Stratum 1 Geo API (docs/format/client-behaviour.md §6): a server is
/// asked which of the hosts are closest to this client, and answers with the
/// host list's 1-based positions, nearest first.
enum GeoOrdering {
    /// `api/v1.0/geo/<proxy-id>/<name1>,<name2>,…` for the hosts' base URLs.
    static func requestPath(proxyID: String, hosts: [String]) -> String {
        "api/v1.0/geo/\(proxyID)/" + hosts.map(hostName).joined(separator: ",")
    }

    /// The DNS name (or address) of a base URL: `http://s1.example.org:8000/cvmfs/x` → `s1.example.org`.
    static func hostName(_ url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]) }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return String(rest)
    }

    /// The 0-based order the reply gives, or nil unless it is exactly a
    /// permutation of `1…count` (commas between, an optional final newline).
    static func parse(_ reply: [UInt8], count: Int) -> [Int]? {
        var text = String(decoding: reply, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == count else { return nil }
        var order: [Int] = []
        var seen = Set<Int>()
        for field in fields {
            guard let position = Int(field), (1...count).contains(position), seen.insert(position).inserted else { return nil }
            order.append(position - 1)
        }
        return order
    }
}
