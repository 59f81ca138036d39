import Glibc
import CVMFSClient
import CVMFSFormat

/// Streams one object's body, exactly as served, into a temporary file of the
/// replica while hashing it; `finish` refuses a body whose hash is not the
/// object's name, so nothing unverified is ever renamed into `data/`.
final class ObjectFileSink: DownloadSink {
    struct DiskFailure: LocalSinkFailure, CustomStringConvertible {
        let path: String
        let reason: String
        var isLocal: Bool { true }
        var description: String { "\(path): \(reason)" }
    }

    struct HashMismatch: Error, CustomStringConvertible {
        let expected: ContentHash
        let actual: ContentHash
        var description: String { "content hash is \(actual), expected \(expected)" }
    }

    let expected: ContentHash
    let path: String
    private var fd: Int32
    private var hasher: ContentHasher
    private(set) var bytes: Int64 = 0

    init(expected: ContentHash, temporaryIn directory: String) throws(SnapshotError) {
        self.expected = expected
        var template = Array((directory + "/snapshot-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .local(path: directory, reason: "cannot create a temporary file: \(errnoText())") }
        self.fd = fd
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        hasher = ContentHasher(expected.algorithm)
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw DiskFailure(path: path, reason: "cannot write: \(errnoText())")
            }
            offset += n
        }
        hasher.update(bytes)
        self.bytes += Int64(bytes.count)
    }

    func reset() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw DiskFailure(path: path, reason: "cannot truncate: \(errnoText())")
        }
        hasher = ContentHasher(expected.algorithm)
        bytes = 0
    }

    func finish() throws {
        let actual = hasher.finalize()
        hasher = ContentHasher(expected.algorithm)
        guard actual == expected else { throw HashMismatch(expected: expected, actual: actual) }
    }

    /// Moves the verified file to its final name.
    /// No fsync: like upstream's snapshot, a replica is rebuilt from its
    /// source after a crash of the machine; a full disk that delayed
    /// allocation hid until now shows up in `close`.
    func install(at destination: String) throws(SnapshotError) {
        fchmod(fd, 0o644)
        let closed = close(fd)
        fd = -1
        guard closed == 0 else {
            let reason = errnoText()
            unlink(path)
            throw .local(path: path, reason: "cannot write: \(reason)")
        }
        guard rename(path, destination) == 0 else {
            let reason = errnoText()
            unlink(path)
            throw .local(path: destination, reason: "cannot rename into place: \(reason)")
        }
    }

    func discard() { unlink(path) }
}
