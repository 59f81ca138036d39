import Glibc

/// Whole-file reads and writes for keys and certificates (a few KB each).
///
/// Keys are written to a temporary name with their final mode and renamed,
/// so a crash never leaves a truncated key or one that was briefly readable
/// by others.
enum KeyFile {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func read(_ path: String) throws(SignatureError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .keyFileUnreadable(path: path, errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .keyFileUnreadable(path: path, errno: errno)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(SignatureError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .keyFileUnwritable(path: path, errno: errno) }
        var failure: Int32 = 0
        // O_CREAT applies the umask; set the mode explicitly so 0600 keys stay 0600.
        if fchmod(fd, mode) != 0 { failure = errno }
        var offset = 0
        while failure == 0 && offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno != EINTR { failure = errno }
            } else {
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw .keyFileUnwritable(path: path, errno: failure)
        }
    }

    /// Creates `path` as a directory unless it exists already.
    static func makeDirectory(_ path: String) throws(SignatureError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .keyFileUnwritable(path: path, errno: errno)
        }
    }
}
