import CVMFSFormat

/// Turns the `auto` groups of `CVMFS_HTTP_PROXY` into the proxies that auto-discovery finds
/// (docs/format/client-behaviour.md §4).
///
/// `auto` becomes the `http_proxy` environment variable when it is set, otherwise the answer
/// of the first PAC file in `CVMFS_PAC_URLS` that yields a proxy, evaluated for the first
/// Stratum 1. A successful discovery is remembered in `cacheFile`; when discovery finds
/// nothing, the remembered list is used, and without one the `auto` groups are dropped so
/// the next group (often `DIRECT`) takes over.
public struct ProxyDiscovery: Sendable {
    /// What the word `auto` in `CVMFS_PAC_URLS` stands for.
    public static let wpadURL = "http://wpad/wpad.dat"

    /// `CVMFS_PAC_URLS` split on `;`, in order.
    public var pacURLs: [String]
    /// The `http_proxy` environment variable, which wins over PAC files as upstream has it.
    public var environmentProxy: String?
    /// `<workspace>/proxies.<fqrn>`: the last discovered list; nil = do not remember.
    public var cacheFile: String?
    /// Connect and low-speed time-out of a PAC download, in seconds.
    public var timeoutSeconds: Int
    public var userAgent: String

    public init(pacURLs: [String], environmentProxy: String?, cacheFile: String?, timeoutSeconds: Int, userAgent: String) {
        self.pacURLs = pacURLs
        self.environmentProxy = environmentProxy
        self.cacheFile = cacheFile
        self.timeoutSeconds = timeoutSeconds
        self.userAgent = userAgent
    }

    /// The proxy description with its `auto` groups resolved, and what happened, for the log.
    public struct Outcome: Sendable, Equatable {
        public var proxies: String
        public var notes: [String]
    }

    /// Whether `description` has an `auto` group, so discovery is needed at all.
    public static func mentionsAuto(_ description: String) -> Bool {
        description.split(separator: ";").contains { isAuto($0) }
    }

    static func isAuto(_ group: Substring) -> Bool { group.trimmingSpaces.lowercased() == "auto" }

    public func resolve(_ description: String, hosts: [String]) -> Outcome {
        guard Self.mentionsAuto(description) else { return Outcome(proxies: description, notes: []) }
        var notes: [String] = []
        let discovered = discover(hosts: hosts, notes: &notes)
        let groups = description.split(separator: ";", omittingEmptySubsequences: false).compactMap { group -> String? in
            guard Self.isAuto(group) else { return String(group) }
            return discovered
        }
        let proxies = groups.joined(separator: ";")
        guard let cacheFile else { return Outcome(proxies: proxies, notes: notes) }
        if discovered == nil {
            if let remembered = Self.readRemembered(cacheFile) {
                notes.append("using the proxies remembered from an earlier discovery in \(cacheFile): \(remembered)")
                return Outcome(proxies: remembered, notes: notes)
            }
        } else if let problem = SmallFile.write(cacheFile, Array(proxies.utf8), mode: 0o600) {
            notes.append("cannot remember the discovered proxies: \(problem)")
        }
        return Outcome(proxies: proxies, notes: notes)
    }

    /// The proxies `auto` stands for, in `CVMFS_HTTP_PROXY` syntax, or nil when none was found.
    private func discover(hosts: [String], notes: inout [String]) -> String? {
        if let environmentProxy, !environmentProxy.isEmpty {
            notes.append("auto: using \(environmentProxy) from the http_proxy environment variable")
            return environmentProxy
        }
        if pacURLs.isEmpty { notes.append("auto: CVMFS_PAC_URLS names no PAC file") }
        for listed in pacURLs {
            let url = listed == "auto" ? Self.wpadURL : listed
            do {
                let proxies = try proxies(fromPAC: url, hosts: hosts)
                notes.append("auto: using \(proxies) from PAC file \(url)")
                return proxies
            } catch {
                notes.append("auto: PAC file \(url): \(error)")
            }
        }
        return nil
    }

    /// Downloads one PAC file (always `DIRECT`) and evaluates it for the first host.
    func proxies(fromPAC url: String, hosts: [String]) throws(ProxyDiscoveryError) -> String {
        let (base, leaf) = Self.split(url)
        let script: [UInt8]
        do {
            let downloader = try Downloader(settings: DownloadSettings(
                hosts: [base], proxies: "DIRECT", timeoutSeconds: timeoutSeconds, timeoutDirectSeconds: timeoutSeconds,
                maxRetries: 0, maxTransfers: 1, userAgent: userAgent))
            script = try downloader.fetchToMemory(leaf, limit: 1 << 20)
        } catch {
            throw .unreachable("\(error)")
        }
        let host = hosts.first ?? "http://localhost"
        let answer = try PACScript.findProxy(script: script, url: host + "/.cvmfspublished", host: GeoOrdering.hostName(host))
        let converted = Self.proxies(fromPACAnswer: answer)
        if converted.isEmpty { throw .noUsableProxy(answer: answer) }
        return converted
    }

    /// A PAC answer (`PROXY a:3128; SOCKS b:1080; DIRECT`) as proxy groups (`a:3128;DIRECT`),
    /// one group per entry so they are tried in the script's order. Entries other than
    /// `PROXY` and `DIRECT` are left out; an empty answer means `DIRECT`, as upstream has it.
    public static func proxies(fromPACAnswer answer: String) -> String {
        let entries = answer.split(separator: ";").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        if entries.isEmpty { return Substring(answer).trimmingSpaces.isEmpty ? "DIRECT" : "" }
        var groups: [String] = []
        for entry in entries {
            let words = entry.split(whereSeparator: { $0 == " " || $0 == "\t" })
            switch (words.first?.uppercased(), words.count) {
            case ("DIRECT", 1): groups.append("DIRECT")
            case ("PROXY", 2): groups.append(String(words[1]))
            default: continue
            }
        }
        return groups.joined(separator: ";")
    }

    /// `http://h/a/b.pac` → (`http://h/a`, `b.pac`), the shape `Downloader.fetch` takes.
    static func split(_ url: String) -> (base: String, leaf: String) {
        let afterScheme = url.range(of: "://")?.upperBound ?? url.startIndex
        guard let slash = url[afterScheme...].lastIndex(of: "/") else { return (url, "") }
        return (String(url[..<slash]), String(url[url.index(after: slash)...]))
    }

    private static func readRemembered(_ path: String) -> String? {
        guard let bytes = SmallFile.read(path, limit: 64 << 10) else { return nil }
        let text = Substring(String(decoding: bytes, as: UTF8.self)).trimmingSpaces
        return text.isEmpty || text.contains("\n") ? nil : String(text)
    }
}
