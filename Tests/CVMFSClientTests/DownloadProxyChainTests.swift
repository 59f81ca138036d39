@testable import CVMFSClient
import Testing

@Suite("Proxy and host chain parsing")
struct DownloadProxyChainTests {
    @Test("groups split on ';', members on '|', default scheme added")
    func groups() throws {
        let chain = try ProxyChain(proxies: "http://p1:3128|p2:3128;http://p3:3128;DIRECT")
        #expect(chain.groups == [[.url("http://p1:3128"), .url("http://p2:3128")], [.url("http://p3:3128")], [.direct]])
        #expect(chain.memberCount == 4)
        #expect(chain.fallbackStart == 3)
        #expect(chain.currentGroup == 0)
    }

    @Test("a fallback list removes DIRECT from the regular list and is appended as groups")
    func fallback() throws {
        let chain = try ProxyChain(proxies: "http://p1:3128|DIRECT;DIRECT", fallback: "http://f1:3128;f2:80|f3:80")
        #expect(chain.groups == [[.url("http://p1:3128")], [.url("http://f1:3128")], [.url("http://f2:80"), .url("http://f3:80")]])
        #expect(chain.fallbackStart == 1)
    }

    @Test("DIRECT in the fallback list is refused")
    func directInFallback() {
        #expect(throws: DownloadConfigurationError.directInFallback) {
            try ProxyChain(proxies: "http://p1:3128", fallback: "DIRECT")
        }
    }

    @Test("'auto' sharing a group with other proxies is refused with a message that says what to write",
          arguments: ["auto|http://p1:3128", "http://p1:3128;AUTO|http://p:1"])
    func autoInGroupRefused(spec: String) {
        #expect(throws: DownloadConfigurationError.autoProxyNotAlone) { try ProxyChain(proxies: spec) }
        #expect(DownloadConfigurationError.autoProxyNotAlone.description.contains("auto;DIRECT"))
    }

    @Test("empty lists and empty members are refused")
    func empty() {
        #expect(throws: DownloadConfigurationError.noProxies) { try ProxyChain(proxies: "  ") }
        #expect(throws: DownloadConfigurationError.emptyProxy) { try ProxyChain(proxies: "http://p1:1||http://p2:2") }
        #expect(throws: DownloadConfigurationError.noHosts) { try HostChain(serverURL: "") }
    }

    @Test("burning every member of a group moves to the next group; a stale generation moves nothing")
    func burning() throws {
        var chain = try ProxyChain(proxies: "http://a:1|http://b:1;http://c:1")
        let now = ContinuousClock.now
        let first = chain.current
        let gen = chain.generation
        let moved = chain.fail(seenGeneration: gen, now: now)
        #expect(moved)
        #expect(chain.currentGroup == 0 && chain.current != first)
        let movedAgain = chain.fail(seenGeneration: gen, now: now)
        #expect(!movedAgain, "a second request that saw the old proxy must not move it again")
        let movedGroup = chain.fail(seenGeneration: chain.generation, now: now)
        #expect(movedGroup)
        #expect(chain.current == .url("http://c:1"))
        chain.resetToFirstGroup(now: now)
        #expect(chain.currentGroup == 0)
    }

    @Test("proxy reset-after returns to the first group only once the time has passed")
    func proxyReset() throws {
        var chain = try ProxyChain(proxies: "http://a:1;http://b:1")
        let now = ContinuousClock.now
        chain.fail(seenGeneration: chain.generation, now: now)
        chain.resetIfDue(after: .seconds(300), now: now + .seconds(10))
        #expect(chain.currentGroup == 1)
        chain.resetIfDue(after: .seconds(300), now: now + .seconds(301))
        #expect(chain.currentGroup == 0)
    }

    @Test("hosts fail over round-robin, trailing slashes dropped, reset-after returns to host 0")
    func hosts() throws {
        var chain = try HostChain(serverURL: "http://s1/cvmfs/r/;http://s2/cvmfs/r")
        #expect(chain.hosts == ["http://s1/cvmfs/r", "http://s2/cvmfs/r"])
        let now = ContinuousClock.now
        let gen = chain.generation
        let moved = chain.fail(seenGeneration: gen, now: now)
        let movedAgain = chain.fail(seenGeneration: gen, now: now)
        #expect(moved && !movedAgain)
        #expect(chain.currentHost == "http://s2/cvmfs/r")
        chain.resetIfDue(after: .zero, now: now + .seconds(5000))
        #expect(chain.current == 1, ".zero means never")
        chain.resetIfDue(after: .seconds(1800), now: now + .seconds(1800))
        #expect(chain.current == 0)
    }
}
