import Glibc

/// Starting a helper program and waiting for it with posix_spawn and waitpid, not Foundation's
/// Process: its run-loop wait added tens of milliseconds to every mount (the configuration
/// shell), and it never reaped a mount command whose daemon lived on (a configuration
/// repository's mount).
public enum ChildProcess {
    /// Starts `executable` with stdin from /dev/null and stdout and stderr on `output` and
    /// `errors` (-1: /dev/null); the child does not keep the descriptors in `closeInChild`.
    /// `environment` nil keeps this process's. Returns posix_spawn's result and the pid.
    public static func spawn(_ executable: String, arguments: [String], environment: [String: String]? = nil,
                             output: Int32, errors: Int32, closeInChild: [Int32] = []) -> (result: Int32, pid: pid_t) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, target) in [(output, Int32(1)), (errors, Int32(2))] {
            if fd >= 0 {
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        for fd in closeInChild { posix_spawn_file_actions_addclose(&actions, fd) }

        var argv = arguments.map { strdup($0) } + [nil]
        var envp = (environment ?? [:]).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = environment == nil
            ? posix_spawn(&pid, executable, &actions, nil, &argv, environ)
            : posix_spawn(&pid, executable, &actions, nil, &argv, &envp)
        return (result, pid)
    }

    /// The exit status, or 128 + the signal that ended the child (as a shell reports it).
    public static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// A temporary file that is unlinked at once, so that nothing is left behind; -1 when none can be made.
    public static func unlinkedTemporaryFile() -> Int32 {
        var template = Array("/tmp/cvmfs-swift-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { unlink(template) }
        return fd
    }

    /// Reads `fd` until end of file (or a read error).
    public static func readToEnd(_ fd: Int32) -> [UInt8] {
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }
}
