import Foundation
import Testing
@testable import CVMFSClient
import CVMFSFormat

/// A temporary cache directory, removed by `remove()`.
struct CacheTempDirectory {
    let path: String
    init() {
        var template = Array((NSTemporaryDirectory() + "/cvmfs-cache-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Bytes in object files and temp files: what the quota must bound.
    func diskUsage() -> Int64 {
        var total: Int64 = 0
        let fm = FileManager.default
        for sub in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where sub.count == 2 || sub == "txn" {
            for name in (try? fm.contentsOfDirectory(atPath: path + "/" + sub)) ?? [] {
                let attributes = try? fm.attributesOfItem(atPath: path + "/" + sub + "/" + name)
                total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }

    func files(in sub: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path + "/" + sub)) ?? []
    }
}

/// An in-memory "server": objects as stored (zlib), by hash.
struct CacheTestObject {
    let plain: [UInt8]
    let stored: [UInt8]
    let hash: ContentHash

    init(size: Int, seed: UInt8 = 0, compression: Compression = .zlib) {
        var rng = SystemRandomNumberGenerator()
        let prefix = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        plain = prefix + (0..<max(size - 16, 0)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
        (stored, hash) = ObjectEncoder.encode(plain, algorithm: .sha1, compression: compression)
    }

    /// A download closure that streams `bytes` in 4 KiB pieces and finishes;
    /// a sink's refusal comes back as bad data, as `Downloader` reports it.
    static func serve(_ bytes: [UInt8]) -> (any ObjectSink) throws(DownloadError) -> Void {
        { (sink) throws(DownloadError) in
            do {
                try bytes.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = min(4096, raw.count - offset)
                        try sink.write(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]))
                        offset += n
                    }
                }
                try sink.finish()
            } catch {
                throw .badData(url: "test://object", host: "test://", proxy: .direct, reason: "\(error)")
            }
        }
    }

    var serve: (any ObjectSink) throws(DownloadError) -> Void { Self.serve(stored) }
}

/// Reads a whole descriptor (and closes it).
func cacheReadAll(_ fd: FileDescriptor) throws -> [UInt8] {
    defer { fd.close() }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = try buffer.withUnsafeMutableBytes { try fd.read(into: $0, at: Int64(out.count)) }
        if n == 0 { return out }
        out += buffer[0..<n]
    }
}

/// The claim → download → commit sequence of `CachedObjectProvider`, with
/// the download given as a closure, for tests that feed the sink directly.
extension ObjectCache {
    func fetch(hash: ContentHash, compression: Compression, expectedSize: Int64?, kind: CacheObjectKind,
               description: String? = nil, pin: Bool = false,
               download: (any ObjectSink) throws(DownloadError) -> Void) throws(CacheError) -> FileDescriptor {
        switch try claim(hash: hash, compression: compression, expectedSize: expectedSize, kind: kind,
                         description: description, pin: pin) {
        case .cached(let fd):
            return fd
        case .fill(let ticket):
            do throws(DownloadError) { try download(ticket.sink) } catch { throw ticket.fail(error) }
            return try ticket.commit()
        }
    }

    func prefetch(hash: ContentHash, compression: Compression, size: Int64, kind: CacheObjectKind, headroom: Int64,
                  download: (any ObjectSink) throws(DownloadError) -> Void) throws(CacheError) -> PrefetchOutcome {
        switch try claimAhead(hash: hash, compression: compression, size: size, kind: kind, headroom: headroom) {
        case .present: return .present
        case .noRoom: return .noRoom
        case .fill(let ticket):
            do throws(DownloadError) { try download(ticket.sink) } catch { throw ticket.fail(error) }
            try ticket.commit().close()
            return .filled
        }
    }
}
