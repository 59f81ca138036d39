#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The daemonized child's line to its waiting parent (see `FuseDaemon`).
/// Reports once; later calls do nothing.
public final class DaemonReadiness: Sendable {
    static let okByte: UInt8 = 0

    /// The pipe's write end; -1 once reported.
    private let writeEnd: Mutex<Int32>

    init(writeEnd: Int32) {
        self.writeEnd = Mutex(writeEnd)
    }

    /// The mount is live: the parent exits 0, and stdout/stderr go to
    /// /dev/null (the terminal may go away).
    /// With `errorLog`, standard error goes there instead (appended), so a
    /// crash report of the daemon is not lost.
    public func mounted(errorLog: String? = nil) {
        report([Self.okByte])
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, STDOUT_FILENO)
            dup2(null, STDERR_FILENO)
            if null > STDERR_FILENO { close(null) }
        }
        if let errorLog {
            let log = open(errorLog, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            if log >= 0 {
                dup2(log, STDERR_FILENO)
                if log != STDERR_FILENO { close(log) }
            }
        }
    }

    /// Mounting failed: the parent prints `message` and exits with
    /// `exitCode` (1–255; scripts tell failure kinds apart by it).
    public func failed(_ message: String, exitCode: Int32 = 1) {
        report([UInt8(clamping: max(1, exitCode))] + Array(message.utf8))
    }

    private func report(_ bytes: [UInt8]) {
        writeEnd.withLock { fd in
            guard fd >= 0 else { return }
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 { if errno == EINTR { continue } else { break } }
                    offset += n
                }
            }
            close(fd)
            fd = -1
        }
    }
}
