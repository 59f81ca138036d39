import Glibc
import CVMFSFormat

/// `CVMFS_USE_GEOAPI=yes`: the host chain in the order a Stratum 1's Geo API
/// gives (docs/format/client-behaviour.md §6), before the first request.
extension MountSession {
    static func orderHostsByGeo(_ configuration: ClientConfiguration, _ downloader: Downloader) {
        let proxyID = geoProxyID(configuration, downloader)
        if let host = downloader.orderHostsByGeo(proxyID: proxyID) {
            Log.debug("\(configuration.fqrn): Geo API of \(host) ordered the hosts: \(downloader.hostChain.hosts.joined(separator: "; "))")
        } else {
            Log.notice("\(configuration.fqrn): no Geo API answer, the hosts stay in the configured order")
        }
    }

    /// `CVMFS_PROXY_TEMPLATE`, else the host name of the proxy in use, else
    /// (direct) this client's UUID, kept in `<workspace>/uuid`.
    static func geoProxyID(_ configuration: ClientConfiguration, _ downloader: Downloader) -> String {
        if let template = configuration.parameters["CVMFS_PROXY_TEMPLATE"], !template.isEmpty { return template }
        if case .url(let url) = downloader.proxyChain.current { return GeoOrdering.hostName(url) }
        return clientUUID(workspace: configuration.workspace)
    }

    private static func clientUUID(workspace: String) -> String {
        let path = workspace + "/uuid"
        if let bytes = SmallFile.read(path, limit: 64) {
            let text = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            if text.count == 36 { return text }
        }
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = Array(Hex.encode(bytes).utf8)
        let uuid = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(decoding: hex[$0], as: UTF8.self) }.joined(separator: "-")
        _ = SmallFile.write(path, Array((uuid + "\n").utf8))
        return uuid
    }
}
