#if canImport(Glibc)
import Glibc
#endif

/// Puts a mount process into the background the way `cvmfs2` without `-f`
/// does: the parent stays until the child reports whether the mount came up,
/// and exits 0, or with the failure code the child reports, so `mount` sees the real outcome.
public enum FuseDaemon {
    /// Forks. Call it before any thread exists (before creating the core,
    /// the download manager or the FUSE session): only the calling thread
    /// survives a fork.
    ///
    /// Returns only in the child, which has become a session leader with
    /// `/` as its working directory and stdin on /dev/null. The child must
    /// call `DaemonReadiness.mounted()` or `failed(_:)` exactly once. The
    /// parent never returns: it prints the child's failure message to stderr
    /// and exits with its code, or exits 0 once the child is mounted. If the child dies
    /// without reporting, the parent exits 1.
    public static func daemonize() throws(DaemonError) -> DaemonReadiness {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .pipe(errno: errno) }
        let pid = fork()
        if pid < 0 {
            let saved = errno
            close(fds[0]); close(fds[1])
            throw .fork(errno: saved)
        }
        if pid > 0 {
            close(fds[1])
            waitForChild(readEnd: fds[0])
        }
        close(fds[0])
        _ = setsid()
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, STDIN_FILENO)
            if null != STDIN_FILENO { close(null) }
        }
        return DaemonReadiness(writeEnd: fds[1])
    }

    /// The parent's side: one status byte, then an optional message.
    private static func waitForChild(readEnd: Int32) -> Never {
        var message: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n > 0 { message.append(contentsOf: chunk[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        guard let status = message.first else {
            writeError("the mount process exited before the mount was ready")
            exit(1)
        }
        if status == DaemonReadiness.okByte { exit(0) }
        writeError(String(decoding: message.dropFirst(), as: UTF8.self))
        exit(Int32(status))
    }

    /// One line on stderr, without stdio (its FILE globals are not Sendable).
    private static func writeError(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// Why `FuseDaemon.daemonize()` could not fork.
public enum DaemonError: Error, Sendable, Equatable {
    case pipe(errno: Int32)
    case fork(errno: Int32)
}
