import CVMFSTestSupport
import CVMFSClient
import CVMFSFormat
import Foundation
import Synchronization
import Testing

@Suite("Downloader against loopback fault servers")
struct DownloadTests {
    @Test("a plain fetch returns the verified object and sends the upstream request headers")
    func plainFetch() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let server = try FaultServer(root: fixture.root)
        defer { server.stop() }

        let downloader = try Downloader(settings: .test(hosts: [server.url]))
        let sink = HashingSink(expected: fixture.hash)
        let report = try downloader.fetch(fixture.objectPath, into: sink)
        #expect(sink.output == fixture.plain)
        #expect(report.host == server.url && report.proxy == .direct && report.retries == 0)
        #expect(report.bytes == Int64(fixture.stored.count))
        let manifest = try downloader.fetchToMemory(".cvmfspublished", limit: 1024)
        #expect(manifest == Array("manifest\n".utf8))
        let stats = downloader.statistics
        #expect(stats.downloads == 2 && stats.failedRequests == 0 && stats.bytes == report.bytes + 9)

        let request = try #require(try server.log().first)
        #expect(request.contains("User-Agent: cvmfs Fuse 2.11.0-swift-test"))
        #expect(request.contains("Connection: Keep-Alive"))
        #expect(!request.contains("Pragma"))
    }

    @Test("fetchToMemory refuses a body over the limit as bad data")
    func memoryLimit() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let server = try FaultServer(root: fixture.root)
        defer { server.stop() }
        let downloader = try Downloader(settings: .test(hosts: [server.url]))
        #expect {
            try downloader.fetchToMemory(".cvmfspublished", limit: 4)
        } throws: { error in
            guard case .allHostsFailed(_, let errors) = error as? DownloadError, case .badData = errors.first else { return false }
            return true
        }
    }

    @Test("a dead first host (closed port) fails over to the second")
    func deadHost() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let server = try FaultServer(root: fixture.root)
        defer { server.stop() }
        let dead = "http://127.0.0.1:\(closedPort())"

        let downloader = try Downloader(settings: .test(hosts: [dead, server.url]))
        let sink = HashingSink(expected: fixture.hash)
        let report = try downloader.fetch(fixture.objectPath, into: sink)
        #expect(report.host == server.url)
        #expect(report.retries == 2, "one same-URL retry on the dead host, then the failover")
        #expect(sink.output == fixture.plain)
        #expect(downloader.currentHost == server.url)
        #expect(downloader.statistics.hostSwitches == 1)
    }

    @Test("HTTP 404 on the first host fails over to the second without a same-URL retry")
    func notFound() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let first = try FaultServer(root: fixture.root, arguments: ["--mode", "404"])
        defer { first.stop() }
        let second = try FaultServer(root: fixture.root)
        defer { second.stop() }

        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url]))
        let report = try downloader.fetch(fixture.objectPath, into: HashingSink(expected: fixture.hash))
        #expect(report.host == second.url && report.retries == 1)
        #expect(try first.log().count == 1)
    }

    @Test("flipped bytes are caught by the hash, re-fetched once with no-cache, then the next host serves")
    func flippedBytes() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let first = try FaultServer(root: fixture.root, arguments: ["--mode", "flip"])
        defer { first.stop() }
        let second = try FaultServer(root: fixture.root)
        defer { second.stop() }

        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url]))
        let sink = HashingSink(expected: fixture.hash)
        let report = try downloader.fetch(fixture.objectPath, into: sink)
        #expect(report.host == second.url && report.retries == 2)
        #expect(sink.resets == 2 && sink.output == fixture.plain)
        let log = try first.log()
        #expect(log.count == 2)
        #expect(!log[0].contains("no-cache"))
        #expect(log[1].contains("Pragma: no-cache") && log[1].contains("Cache-Control: no-cache"))
        let secondLog = try second.log()
        #expect(!secondLog[0].contains("no-cache"), "the no-cache flag does not carry over to the next host")
    }

    @Test("a hanging host times out and fails over within the timeout plus a little")
    func hang() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let first = try FaultServer(root: fixture.root, arguments: ["--mode", "hang"])
        defer { first.stop() }
        let second = try FaultServer(root: fixture.root)
        defer { second.stop() }

        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url], timeout: 1, maxRetries: 0))
        let clock = ContinuousClock()
        let start = clock.now
        let report = try downloader.fetch(fixture.objectPath, into: HashingSink(expected: fixture.hash))
        let elapsed = clock.now - start
        #expect(report.host == second.url)
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(5))
    }

    @Test("a truncated body is a short transfer: retried, then failed over")
    func truncated() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let first = try FaultServer(root: fixture.root, arguments: ["--mode", "truncate"])
        defer { first.stop() }
        let second = try FaultServer(root: fixture.root)
        defer { second.stop() }

        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url]))
        let report = try downloader.fetch(fixture.objectPath, into: HashingSink(expected: fixture.hash))
        #expect(report.host == second.url && report.retries == 2)
        #expect(try first.log().count == 2)
    }

    @Test("when every host fails the error lists each host's failure")
    func allHostsFail() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let first = try FaultServer(root: fixture.root, arguments: ["--mode", "500"])
        defer { first.stop() }
        let second = try FaultServer(root: fixture.root, arguments: ["--mode", "404"])
        defer { second.stop() }
        let dead = "http://127.0.0.1:\(closedPort())"

        let downloader = try Downloader(settings: .test(hosts: [first.url, second.url, dead], maxRetries: 0))
        do {
            _ = try downloader.fetch(fixture.objectPath, into: HashingSink(expected: fixture.hash))
            Issue.record("fetch should have failed")
        } catch {
            guard case let .allHostsFailed(path, errors) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == fixture.objectPath)
            #expect(errors.map(\.host) == [first.url, second.url, dead])
            #expect(errors[0] == .hostHTTP(url: "\(first.url)/\(fixture.objectPath)", host: first.url, proxy: .direct, status: 500))
            #expect(errors[1] == .hostHTTP(url: "\(second.url)/\(fixture.objectPath)", host: second.url, proxy: .direct, status: 404))
            guard case let .transfer(_, _, _, code, message) = errors[2] else {
                Issue.record("expected a transfer error for the dead host, got \(errors[2])")
                return
            }
            #expect(code == .couldntConnect && !message.isEmpty)
            #expect(error.description.contains(dead))
        }
        #expect(downloader.statistics.failedDownloads == 1)
    }

    @Test("a proxy-generated error (X-Squid-Error) burns the proxy and the next proxy group serves")
    func squidError() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let origin = try FaultServer(root: fixture.root)
        defer { origin.stop() }
        let badProxy = try FaultServer(root: fixture.root, arguments: ["--mode", "squid"])
        defer { badProxy.stop() }
        let goodProxy = try FaultServer(root: fixture.root)
        defer { goodProxy.stop() }

        let downloader = try Downloader(settings: .test(hosts: [origin.url], proxies: "\(badProxy.url);127.0.0.1:\(goodProxy.port)"))
        let report = try downloader.fetch(fixture.objectPath, into: HashingSink(expected: fixture.hash))
        #expect(report.proxy == .url(goodProxy.url) && report.host == origin.url)
        #expect(downloader.currentProxy == .url(goodProxy.url))
        #expect(downloader.statistics.proxySwitches == 1 && downloader.statistics.hostSwitches == 0)
        #expect(try origin.log().isEmpty, "every request went through a proxy")
        let proxied = try #require(try goodProxy.log().first)
        #expect(proxied.contains("proxy=1") && !proxied.contains("Pragma"))
    }

    @Test("with all proxies failing, the host fails over and the proxies start again from the first group")
    func proxiesExhausted() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let origin = try FaultServer(root: fixture.root)
        defer { origin.stop() }
        // The proxy answers like Squid only for host 1's path prefix, and serves host 2's.
        let proxy = try FaultServer(root: fixture.root, arguments: ["--path-mode", "/h1/\(fixture.objectPath)=proxystatus"])
        defer { proxy.stop() }
        try FileManager.default.createDirectory(at: fixture.root.appendingPathComponent("h2/data/ab"), withIntermediateDirectories: true)
        try Data(fixture.stored).write(to: fixture.root.appendingPathComponent("h2/\(fixture.objectPath)"))

        let downloader = try Downloader(settings: .test(hosts: ["\(origin.url)/h1", "\(origin.url)/h2"], proxies: proxy.url))
        let report = try downloader.fetch(fixture.objectPath, into: HashingSink(expected: fixture.hash))
        #expect(report.host == "\(origin.url)/h2" && report.proxy == .url(proxy.url))
        #expect(downloader.statistics.hostSwitches == 1)
    }
}

@Suite("Downloader under concurrency")
struct DownloadConcurrencyTests {
    @Test("concurrent fetches after a dead first host move the shared host pointer only once")
    func concurrentFailover() throws {
        let fixture = try ObjectFixture()
        defer { fixture.remove() }
        let server = try FaultServer(root: fixture.root)
        defer { server.stop() }
        let dead = "http://127.0.0.1:\(closedPort())"
        let downloader = try Downloader(settings: .test(hosts: [dead, server.url], maxRetries: 0))

        let results = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let sink = HashingSink(expected: fixture.hash)
            let host = (try? downloader.fetch(fixture.objectPath, into: sink)).map(\.host) ?? "failed"
            results.withLock { $0.append(host) }
        }
        #expect(results.withLock { $0 } == Array(repeating: server.url, count: 8))
        #expect(downloader.statistics.hostSwitches == 1, "requests that saw the old host must not switch again")
        #expect(downloader.currentHost == server.url)
        #expect(downloader.statistics.downloads == 8)
    }
}
