/// Steering by an administrator (`cvmfs-swift talk host switch`, `proxy set`, ...).
extension Downloader {
    /// Moves new requests to the next host, as a host failure would.
    public func switchHost() {
        chains.withLock { $0.hosts.fail(seenGeneration: $0.hosts.generation, now: .now) }
    }

    /// Moves new requests to the next proxy, as a proxy failure would.
    public func switchProxy() {
        chains.withLock { $0.proxies.fail(seenGeneration: $0.proxies.generation, now: .now) }
    }

    /// Replaces the proxy list (upstream syntax), keeping the fallback proxies.
    public func setProxies(_ proxies: String) throws(DownloadConfigurationError) {
        let chain = try ProxyChain(proxies: proxies, fallback: settings.fallbackProxies)
        chains.withLock { $0.proxies = chain }
    }

    /// Replaces the Stratum 1 list; new requests start at its first host.
    public func setHosts(_ hosts: [String]) throws(DownloadConfigurationError) {
        let chain = try HostChain(hosts)
        chains.withLock { $0.hosts = chain }
    }

    /// `host info`: every host, the active one marked.
    public func hostInfo() -> String {
        let hosts = hostChain
        var lines = ["Active host \(hosts.current): \(hosts.currentHost)"]
        for (index, host) in hosts.hosts.enumerated() {
            lines.append("  [\(index)] \(host)")
        }
        return lines.joined(separator: "\n")
    }

    /// `proxy info`: the load-balance groups, the active proxy marked.
    public func proxyInfo() -> String {
        let proxies = proxyChain
        var lines = ["Load-balance groups:"]
        for (index, group) in proxies.groups.enumerated() {
            let kind = index >= proxies.fallbackStart ? " (fallback)" : ""
            lines.append("[\(index)] " + group.map(\.description).joined(separator: ", ") + kind)
        }
        lines.append("Active proxy: [\(proxies.currentGroup)] \(proxies.current)")
        return lines.joined(separator: "\n")
    }

    /// `host probe`: fetches `path` from each host directly and reports the
    /// round-trip time, or the error.
    /// Orders the hosts by the Geo API: asks up to three of them, in random
    /// order, `GeoOrdering.requestPath`, and applies the first answer that is
    /// a permutation of the hosts. Returns the host that answered, or nil
    /// (the configured order stays) when none did.
    @discardableResult
    public func orderHostsByGeo(proxyID: String) -> String? {
        let hosts = hostChain.hosts
        guard hosts.count > 1 else { return nil }
        let path = GeoOrdering.requestPath(proxyID: proxyID, hosts: hosts)
        for host in hosts.shuffled().prefix(3) {
            do {
                guard let order = GeoOrdering.parse(try singleHost(host).fetchToMemory(path, limit: 4096), count: hosts.count) else {
                    continue
                }
                chains.withLock { $0.hosts.reorder(order) }
                return host
            } catch {
                continue
            }
        }
        return nil
    }

    /// Drops all hosts but the first `count` (`CVMFS_MAX_SERVERS`).
    public func keepFirstHosts(_ count: Int) {
        chains.withLock { $0.hosts.keepFirst(count) }
    }

    public func probeHosts(path: String = ".cvmfspublished") -> [(host: String, milliseconds: Int?, error: String?)] {
        hostChain.hosts.map { host in
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try singleHost(host).fetchToMemory(path, limit: 1 << 20)
                let elapsed = clock.now - started
                return (host, Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000), nil)
            } catch {
                return (host, nil, "\(error)")
            }
        }
    }

    /// A downloader that asks only `host`, once, through this one's proxies:
    /// for questions to one server (probes, the Geo API), with no failover.
    private func singleHost(_ host: String) throws(DownloadConfigurationError) -> Downloader {
        try Downloader(settings: DownloadSettings(
            hosts: [host], proxies: settings.proxies, fallbackProxies: settings.fallbackProxies,
            timeoutSeconds: settings.timeoutSeconds, timeoutDirectSeconds: settings.timeoutDirectSeconds,
            maxRetries: 0, userAgent: settings.userAgent))
    }
}
