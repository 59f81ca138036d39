import Glibc
import CVMFSFormat

/// `auto` in `CVMFS_HTTP_PROXY`: discovered at mount time and again whenever the proxy list is
/// set anew (`talk proxy set`), never on a read (docs/format/client-behaviour.md §4).
extension MountSession {
    /// `description` with its `auto` groups replaced by what discovery found; every step of
    /// the discovery is logged. Refused when nothing at all is left to connect through.
    static func discoverProxies(_ description: String, _ configuration: ClientConfiguration) throws(MountError) -> String {
        guard ProxyDiscovery.mentionsAuto(description) else { return description }
        let fqrn = configuration.fqrn
        _ = DirectoryPath.create(configuration.workspace, mode: 0o700)
        let discovery = ProxyDiscovery(
            pacURLs: configuration.pacURLs, environmentProxy: getenv("http_proxy").map { String(cString: $0) },
            cacheFile: configuration.workspace + "/proxies." + fqrn,
            timeoutSeconds: configuration.timeoutDirect, userAgent: "cvmfs Fuse \(version)")
        let outcome = discovery.resolve(description, hosts: configuration.serverURLs)
        for note in outcome.notes { Log.notice("\(fqrn): \(note)") }
        if outcome.proxies.split(separator: ";").allSatisfy({ $0.trimmingSpaces.isEmpty }) {
            throw .configuration("CVMFS_HTTP_PROXY=\(description): proxy auto-discovery found no proxy and no other group is left ("
                                 + outcome.notes.joined(separator: "; ") + ")")
        }
        Log.debug("\(fqrn): proxies after discovery: \(outcome.proxies)")
        return outcome.proxies
    }
}
