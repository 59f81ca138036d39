import Glibc
import Synchronization
import CVMFSFormat

/// The `data/` folder of a repository being written: stores each object once
/// under its content-addressed name (docs/format/repository-layout.md §3.1).
public final class ObjectStore: Sendable {
    public let root: String
    private let counters = Mutex(Counters())

    public struct Counters: Sendable {
        /// Objects written by this publish.
        public var written = 0
        public var writtenBytes: Int64 = 0
        /// Objects that already existed (unchanged content, or repeated inside this publish).
        public var reused = 0
    }

    public var statistics: Counters { counters.withLock { $0 } }

    /// Creates `data/00`…`data/ff` and `data/txn` below `root` if missing.
    public init(root: String) throws(PublishError) {
        self.root = root
        var prefix = root.hasPrefix("/") ? "" : "."
        for component in root.split(separator: "/") {
            prefix += "/" + component
            try Self.makeDirectory(prefix)
        }
        try Self.makeDirectory(root + "/data")
        try Self.makeDirectory(root + "/data/txn")
        for i in 0..<256 {
            try Self.makeDirectory(root + "/data/" + Hex.encode([UInt8(i)]))
        }
    }

    private static func makeDirectory(_ path: String) throws(PublishError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .output(path: path, reason: "cannot create directory: \(errnoText())")
        }
    }

    /// Stores an encoded object unless it exists already. Returns whether it was new.
    @discardableResult
    public func store(_ bytes: UnsafeRawBufferPointer, hash: ContentHash, suffix: ObjectSuffix) throws(PublishError) -> Bool {
        let path = root + "/" + hash.objectPath(suffix: suffix)
        if access(path, F_OK) == 0 {
            counters.withLock { $0.reused += 1 }
            return false
        }
        var template = Array((root + "/data/txn/objectXXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .output(path: root + "/data/txn", reason: "cannot create a temporary file: \(errnoText())") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errnoText()
                close(fd)
                unlink(temporary)
                throw .output(path: path, reason: "cannot write: \(reason)")
            }
            offset += n
        }
        fchmod(fd, 0o644)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw .output(path: path, reason: "cannot rename into place: \(reason)")
        }
        counters.withLock {
            $0.written += 1
            $0.writtenBytes += Int64(bytes.count)
        }
        return true
    }

    /// Stores an encoded object held in an array.
    @discardableResult
    public func store(_ bytes: [UInt8], hash: ContentHash, suffix: ObjectSuffix) throws(PublishError) -> Bool {
        let stored: Result<Bool, PublishError> = bytes.withUnsafeBytes { raw in
            do throws(PublishError) { return .success(try store(raw, hash: hash, suffix: suffix)) } catch { return .failure(error) }
        }
        return try stored.get()
    }

    /// Encodes plain bytes (zlib or none) and stores the result.
    public func store(plain: UnsafeRawBufferPointer, algorithm: HashAlgorithm, compression: Compression, suffix: ObjectSuffix) throws(PublishError) -> ContentHash {
        var encoded = [UInt8]()
        encoded.reserveCapacity(compression == .zlib ? plain.count + plain.count / 1000 + 64 : 0)
        var encoder = ObjectEncoder(algorithm: algorithm, compression: compression)
        if compression == .zlib {
            encoder.consume(plain) { encoded.append(contentsOf: $0) }
            let hash = encoder.finish { encoded.append(contentsOf: $0) }
            try store(encoded, hash: hash, suffix: suffix)
            return hash
        }
        encoder.consume(plain) { _ in }
        let hash = encoder.finish { _ in }
        _ = try store(plain, hash: hash, suffix: suffix)
        return hash
    }

    /// Writes a plain file at the repository root (manifest, whitelist, ...)
    /// atomically, so a web server never serves half a file.
    public func writeRootFile(_ name: String, _ bytes: [UInt8]) throws(PublishError) {
        let path = root + "/" + name
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .output(path: temporary, reason: "cannot create: \(errnoText())") }
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .output(path: path, reason: "cannot write: \(errnoText())")
        }
    }
}
