import Synchronization

/// `cvmfs_config reload` (`talk reload`): the configuration chain is read again and the
/// network settings it names are applied to the running mount without unmounting.
///
/// What changes in place: the proxy list (with `auto` discovered again) and the Stratum 1
/// list. Every other parameter keeps its mount-time value until the next mount; the answer
/// lists those that now differ, so an administrator knows a remount is needed.
extension MountSession {
    /// How the mount read its configuration, so that `reload` can read it the same way.
    public struct ConfigurationSource: Sendable {
        public var repository: String
        public var configDirectory: String?
        public var explicitFiles: [String]?

        public init(repository: String, configDirectory: String?, explicitFiles: [String]?) {
            self.repository = repository
            self.configDirectory = configDirectory
            self.explicitFiles = explicitFiles
        }
    }

    public func setConfigurationSource(_ source: ConfigurationSource) {
        configurationSource.withLock { $0 = source }
    }

    func reload() -> String {
        guard let source = configurationSource.withLock({ $0 }) else { return "Failed: this mount does not know its configuration files" }
        let fresh: ClientConfiguration
        do {
            fresh = try ClientConfiguration.load(repository: source.repository, configDirectory: source.configDirectory,
                                                 explicitFiles: source.explicitFiles)
        } catch {
            return "Failed: \(error)"
        }
        do {
            let proxies = try Self.discoverProxies(fresh.httpProxy, fresh)
            try downloader.setHosts(fresh.serverURLs)
            try downloader.setProxies(proxies)
        } catch {
            return "Failed: \(error)"
        }
        Log.notice("\(configuration.fqrn): reloaded: hosts \(fresh.serverURLs.joined(separator: ";")), proxies \(fresh.httpProxy)")
        let applied: Set<String> = ["CVMFS_HTTP_PROXY", "CVMFS_SERVER_URL", "CVMFS_PAC_URLS"]
        let before = Dictionary(configuration.allParameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        let changed = fresh.allParameters.filter { !applied.contains($0.name) && before[$0.name] != $0.value }.map(\.name)
        if changed.isEmpty { return "Reload finished" }
        return "Reload finished; these take effect at the next mount: " + changed.joined(separator: ", ")
    }
}
