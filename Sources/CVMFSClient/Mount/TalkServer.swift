import Glibc

/// The control socket of one mount (`cvmfs_io.<fqrn>` in the workspace):
/// each connection sends one command line and reads the answer until the
/// server closes it, as upstream's `cvmfs_talk` does.
public final class TalkServer: Sendable {
    public let path: String
    private let listener: Int32

    /// Binds the socket (replacing a stale one) and serves `answer` on a
    /// background thread.
    public init(path: String, answer: @escaping @Sendable (String) -> String) throws(MountError) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .talk("cannot create it: \(String(cString: strerror(errno)))") }
        unlink(path)
        let bound: Int32
        do { bound = try UnixSocketAddress.with(path) { bind(fd, $0, $1) } } catch {
            close(fd)
            throw .talk("\(error)")
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .talk("cannot listen on \(path): \(reason)")
        }
        chmod(path, 0o600)
        listener = fd
        spawnDetachedThread { [fd] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                let command = Self.readCommand(client)
                let reply = answer(command)
                Self.writeAll(client, Array((reply.hasSuffix("\n") ? reply : reply + "\n").utf8))
                close(client)
            }
        }
    }

    /// Removes the socket file; the listening thread ends with the process.
    public func remove() {
        unlink(path)
        shutdown(listener, Int32(SHUT_RDWR))
    }

    static func readCommand(_ fd: Int32) -> String {
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.contains(UInt8(ascii: "\n")) { break }
        }
        let line = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: " \t\r")
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// Sends `command` to the socket at `path` and returns the answer.
    public static func send(_ command: String, to path: String) throws(MountError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .configuration("cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let connected: Int32
        do { connected = try UnixSocketAddress.with(path) { connect(fd, $0, $1) } } catch {
            throw .configuration("\(error)")
        }
        guard connected == 0 else {
            throw .configuration("cannot connect to \(path) (is the repository mounted?): \(String(cString: strerror(errno)))")
        }
        writeAll(fd, Array((command + "\n").utf8))
        var reply = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            reply.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: reply, as: UTF8.self)
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        let drop = Set(set.unicodeScalars)
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, drop.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, drop.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
