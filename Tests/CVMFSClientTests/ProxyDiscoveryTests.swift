import CVMFSTestSupport
@testable import CVMFSClient
import Foundation
import Testing

@Suite("Proxy auto-discovery (auto, PAC files)")
struct ProxyDiscoveryTests {
    static let sitePAC = """
        function FindProxyForURL(url, host) {
          if (host == "s1.example.org") return "PROXY squid-a.example.org:3128; PROXY squid-b.example.org:3128; DIRECT";
          return "DIRECT";
        }
        """

    @Test("FindProxyForURL runs in libpacparser with the URL and host it is given")
    func evaluation() throws {
        let script = Array(Self.sitePAC.utf8)
        #expect(try PACScript.findProxy(script: script, url: "http://s1.example.org/cvmfs/a/.cvmfspublished", host: "s1.example.org")
                == "PROXY squid-a.example.org:3128; PROXY squid-b.example.org:3128; DIRECT")
        #expect(try PACScript.findProxy(script: script, url: "http://other.org/x", host: "other.org") == "DIRECT")
    }

    @Test("a file that is not JavaScript, or lacks FindProxyForURL, is refused with the engine's reason")
    func badScripts() {
        #expect {
            try PACScript.findProxy(script: Array("proxy = squid:3128 {".utf8), url: "http://h/", host: "h")
        } throws: { error in
            guard case ProxyDiscoveryError.notJavaScript(let reason) = error else { return false }
            return !reason.isEmpty && "\(error)".contains("not a valid PAC script")
        }
        #expect {
            // The engine's E4X reads an HTML page as an XML literal, so an error page parses.
            try PACScript.findProxy(script: Array("<html><body>It works!</body></html>".utf8), url: "http://h/", host: "h")
        } throws: { error in
            guard case ProxyDiscoveryError.evaluation(let reason) = error else { return false }
            return reason.contains("FindProxyForURL not defined")
        }
    }

    @Test("a PAC answer becomes one group per entry; SOCKS and garbage are left out")
    func answers() {
        #expect(ProxyDiscovery.proxies(fromPACAnswer: "PROXY a:3128; PROXY b:3128; DIRECT") == "a:3128;b:3128;DIRECT")
        #expect(ProxyDiscovery.proxies(fromPACAnswer: "  proxy a:3128 ;SOCKS s:1080;  ") == "a:3128")
        #expect(ProxyDiscovery.proxies(fromPACAnswer: "") == "DIRECT")
        #expect(ProxyDiscovery.proxies(fromPACAnswer: "SOCKS s:1080") == "")
        #expect(ProxyDiscovery.proxies(fromPACAnswer: "PROXY") == "")
        #expect(ProxyDiscovery.proxies(fromPACAnswer: "hello world") == "")
    }

    @Test("the first PAC file that yields proxies is used, its result remembered, and used again when no PAC file answers")
    func discoveryOverHTTP() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("this is not javascript {".utf8).write(to: root.appendingPathComponent("broken.pac"))
        try Data("function FindProxyForURL(u, h) { return \"SOCKS s:1080\"; }".utf8).write(to: root.appendingPathComponent("socks.pac"))
        try Data(Self.sitePAC.utf8).write(to: root.appendingPathComponent("site.pac"))
        let server = try FaultServer(root: root)
        defer { server.stop() }
        let remembered = root.appendingPathComponent("proxies.remembered").path
        var discovery = ProxyDiscovery(
            pacURLs: ["\(server.url)/missing.pac", "\(server.url)/broken.pac", "\(server.url)/socks.pac", "\(server.url)/site.pac"],
            environmentProxy: nil, cacheFile: remembered, timeoutSeconds: 2, userAgent: "test")
        let hosts = ["http://s1.example.org/cvmfs/@fqrn@", "http://s2.example.org/cvmfs/@fqrn@"]

        let found = discovery.resolve("auto;DIRECT", hosts: hosts)
        #expect(found.proxies == "squid-a.example.org:3128;squid-b.example.org:3128;DIRECT;DIRECT")
        #expect(found.notes.count == 4)
        #expect(found.notes[0].contains("missing.pac: cannot download it"))
        #expect(found.notes[1].contains("broken.pac: not a valid PAC script"))
        #expect(found.notes[2].contains("socks.pac: FindProxyForURL answered \"SOCKS s:1080\", which names no usable proxy"))
        #expect(found.notes[3].contains("using squid-a.example.org:3128;squid-b.example.org:3128;DIRECT from PAC file"))
        #expect(try String(contentsOfFile: remembered, encoding: .utf8) == found.proxies)

        discovery.pacURLs = ["\(server.url)/missing.pac"]
        let fallback = discovery.resolve("auto;DIRECT", hosts: hosts)
        #expect(fallback.proxies == found.proxies)
        #expect(fallback.notes.last?.contains("remembered") == true)

        discovery.cacheFile = nil
        #expect(discovery.resolve("auto;DIRECT", hosts: hosts).proxies == "DIRECT")
        #expect(discovery.resolve("http://p:3128;auto", hosts: hosts).proxies == "http://p:3128")

        discovery.environmentProxy = "http://from-env:3128"
        #expect(discovery.resolve("auto;DIRECT", hosts: hosts).proxies == "http://from-env:3128;DIRECT")
        #expect(discovery.resolve("http://p:3128;DIRECT", hosts: hosts).notes.isEmpty)
    }
}
