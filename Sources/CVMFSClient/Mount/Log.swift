import Glibc
import Synchronization

/// The client's log: notices go to syslog (as upstream's do) and, with
/// `CVMFS_DEBUGLOG`, everything also goes to that file with a timestamp.
public enum Log {
    private static let debugFile = Mutex<Int32>(-1)

    /// Opens the debug log (append) and syslog under `cvmfs2`.
    public static func configure(debugLog: String?, identity: String) {
        if let debugLog {
            let fd = open(debugLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            if fd >= 0 { debugFile.withLock { $0 = fd } }
        }
        openlog(strdup("cvmfs2"), LOG_PID | LOG_NDELAY, LOG_USER)
        notice("\(identity): logging started")
    }

    public static var debugEnabled: Bool { debugFile.withLock { $0 >= 0 } }

    /// A detail only the debug log records.
    public static func debug(_ message: @autoclosure () -> String) {
        guard debugEnabled else { return }
        write(message())
    }

    /// A message for syslog (and the debug log).
    public static func notice(_ message: String) {
        message.withCString { withVaList([$0]) { vsyslog(LOG_NOTICE, "%s", $0) } }
        if debugEnabled { write(message) }
    }

    private static func write(_ message: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line = "[\(now.tv_sec).\(String(now.tv_nsec / 1_000_000))] \(message)\n"
        debugFile.withLock { fd in
            guard fd >= 0 else { return }
            _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        }
    }
}
