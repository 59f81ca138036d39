import CVMFSClient
import CVMFSFormat
import Foundation
import Testing

/// A directory holding one zlib-compressed object at `objectPath`, plus its hash.
struct ObjectFixture {
    let root: URL
    let plain: [UInt8]
    let hash: ContentHash
    let stored: [UInt8]
    let objectPath = "data/ab/object"

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data/ab"), withIntermediateDirectories: true)
        plain = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) }
        (stored, hash) = ObjectEncoder.encode(plain, algorithm: .sha1, compression: .zlib)
        try Data(stored).write(to: root.appendingPathComponent(objectPath))
        try Data("manifest\n".utf8).write(to: root.appendingPathComponent(".cvmfspublished"))
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// A sink that verifies the content hash with `ObjectDecoder`, as the fetcher will.
final class HashingSink: DownloadSink {
    let expected: ContentHash
    var decoder: ObjectDecoder
    var output: [UInt8] = []
    var resets = 0

    init(expected: ContentHash) {
        self.expected = expected
        decoder = ObjectDecoder(expected: expected, compression: .zlib)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try decoder.consume(bytes) { output.append(contentsOf: $0) }
    }

    func reset() {
        resets += 1
        output = []
        decoder = ObjectDecoder(expected: expected, compression: .zlib)
    }

    func finish() throws {
        try decoder.finish()
    }
}

extension DownloadSettings {
    /// Fast settings for loopback tests: short timeouts and millisecond backoffs.
    static func test(hosts: [String], proxies: String = "DIRECT", timeout: Int = 2, maxRetries: Int = 1) -> DownloadSettings {
        DownloadSettings(
            hosts: hosts, proxies: proxies, timeoutSeconds: timeout, timeoutDirectSeconds: timeout,
            maxRetries: maxRetries, backoffInit: .milliseconds(20), backoffMax: .milliseconds(100),
            userAgent: "cvmfs Fuse 2.11.0-swift-test"
        )
    }
}

/// A port on 127.0.0.1 where nothing listens (bound and closed again), so connect fails fast.
func closedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
