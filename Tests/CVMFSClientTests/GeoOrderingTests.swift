import CVMFSTestSupport
@testable import CVMFSClient
import Foundation
import Testing

@Suite("Geo API host ordering")
struct GeoOrderingTests {
    @Test("a reply is used only when it is exactly a permutation of the hosts")
    func parsing() {
        #expect(GeoOrdering.parse(Array("2,3,1\n".utf8), count: 3) == [1, 2, 0])
        #expect(GeoOrdering.parse(Array("1,2".utf8), count: 2) == [0, 1])
        for bad in ["2,2,1", "1,2", "0,1,2", "1,2,4", "a,b,c", "", "1,,2", "<html>"] {
            #expect(GeoOrdering.parse(Array(bad.utf8), count: 3) == nil, "\(bad)")
        }
        #expect(GeoOrdering.hostName("http://s1.example.org:8000/cvmfs/@fqrn@") == "s1.example.org")
        #expect(GeoOrdering.hostName("http://[::1]:80/cvmfs") == "::1")
        #expect(GeoOrdering.requestPath(proxyID: "site", hosts: ["http://a.org/cvmfs/x", "http://b.org:80/cvmfs/x"])
                == "api/v1.0/geo/site/a.org,b.org")
    }

    /// Two loopback Stratum 1s, each able to answer the Geo API.
    static func servers(answer: String) throws -> (FaultServer, FaultServer, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("geo-\(UUID().uuidString)")
        let api = root.appendingPathComponent("api/v1.0/geo/site")
        try FileManager.default.createDirectory(at: api, withIntermediateDirectories: true)
        try Data(answer.utf8).write(to: api.appendingPathComponent("127.0.0.1,127.0.0.1"))
        return (try FaultServer(root: root), try FaultServer(root: root), root)
    }

    @Test("the hosts take the order the Geo API gives; a malformed answer keeps the configured order")
    func ordering() throws {
        let (first, second, root) = try Self.servers(answer: "2,1\n")
        defer { first.stop(); second.stop(); try? FileManager.default.removeItem(at: root) }
        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url]))
        #expect(downloader.orderHostsByGeo(proxyID: "site") != nil)
        #expect(downloader.hostChain.hosts == [second.url, first.url])
        #expect(downloader.hostInfo().contains("Active host 0: \(second.url)"))

        let (a, b, badRoot) = try Self.servers(answer: "3,1\n")
        defer { a.stop(); b.stop(); try? FileManager.default.removeItem(at: badRoot) }
        let unchanged = try Downloader(settings: .test(hosts: [a.url, b.url]))
        #expect(unchanged.orderHostsByGeo(proxyID: "site") == nil)
        #expect(unchanged.hostChain.hosts == [a.url, b.url])
        let asked = try a.log().count + b.log().count
        #expect(asked == 2, "both hosts were asked once")
    }
}
