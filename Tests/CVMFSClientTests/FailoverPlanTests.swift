@testable import CVMFSClient
import Testing

/// The retry and failover order of docs/format/client-behaviour.md §5, step by step.
@Suite("Failover plan")
struct FailoverPlanTests {
    static func plan(hosts: Int, retries: Int) -> FailoverPlan {
        FailoverPlan(hostCount: hosts, maxRetries: retries) { $0 == .zero ? .milliseconds(5) : $0 * 2 }
    }

    @Test("bad data: once more without caches, then the next host; the last host's failure gives up")
    func badData() {
        var plan = Self.plan(hosts: 2, retries: 1)
        #expect(plan.step(after: .badData, proxyCount: 1) == .retryWithoutCache)
        #expect(plan.noCache)
        #expect(plan.step(after: .badData, proxyCount: 1) == .nextHost(resetProxies: false))
        #expect(!plan.noCache, "a new host is asked normally first")
        #expect(plan.step(after: .badData, proxyCount: 1) == .retryWithoutCache)
        #expect(plan.step(after: .badData, proxyCount: 1) == .giveUp)
    }

    @Test("a failing proxy: same-URL retries with growing backoff, then every proxy, then the next host")
    func proxyFailover() {
        var plan = Self.plan(hosts: 2, retries: 2)
        #expect(plan.step(after: .transfer(proxy: true), proxyCount: 3) == .retry(after: .milliseconds(5)))
        #expect(plan.step(after: .transfer(proxy: true), proxyCount: 3) == .retry(after: .milliseconds(10)))
        #expect(plan.step(after: .transfer(proxy: true), proxyCount: 3) == .nextProxy)
        #expect(plan.step(after: .proxy, proxyCount: 3) == .nextProxy)
        #expect(plan.step(after: .proxy, proxyCount: 3) == .nextHost(resetProxies: true))
        #expect(plan.step(after: .host, proxyCount: 3) == .giveUp)
    }

    @Test("a fatal failure gives up at once; a host error moves on without retrying the URL")
    func fatalAndHost() {
        var fatal = Self.plan(hosts: 3, retries: 5)
        #expect(fatal.step(after: .fatal, proxyCount: 2) == .giveUp)
        var host = Self.plan(hosts: 3, retries: 5)
        #expect(host.step(after: .host, proxyCount: 2) == .nextHost(resetProxies: false))
        #expect(host.step(after: .host, proxyCount: 2) == .nextHost(resetProxies: false))
        #expect(host.step(after: .host, proxyCount: 2) == .giveUp)
    }
}
