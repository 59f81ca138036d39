import Glibc

/// Whole-file reads and writes of the client's small state files (the Geo UUID, remembered
/// proxies, profiles written by `talk`), without Foundation.
public enum SmallFile {
    /// The file's bytes, or nil when it cannot be opened or read, or is larger than `limit`.
    public static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
            if bytes.count > limit { return nil }
        }
    }

    /// Writes `bytes` to `path` (created or truncated with `mode`); the error text, or nil.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return "cannot create \(path): \(errnoText())" }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return "cannot write \(path): \(errnoText())"
            }
            done += n
        }
        return nil
    }
}
