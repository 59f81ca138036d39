/// How `FuseMount` mounts and serves a file system.
///
/// Whether to run in the foreground is not an option here: a CLI that should
/// go to the background calls `FuseDaemon.daemonize()` before it creates any
/// thread (and before it creates the core), then runs `FuseMount` in the child.
public struct FuseMountOptions: Sendable {
    /// The source column of /proc/mounts. Tools grep mounts for `cvmfs2`.
    public var fsName: String = "cvmfs2"
    /// Appended to the type column (`fuse.<subtype>`); nil leaves it `fuse`.
    public var subtype: String? = nil
    /// Let users other than the mounting one access the mount.
    public var allowOther: Bool = false
    /// Let the kernel check permissions from the mode bits.
    public var defaultPermissions: Bool = false
    /// Further `-o` options, each without the `-o` (e.g. `"nodev"`).
    public var extraOptions: [String] = []
    /// libfuse's `-d`: log every request to stderr.
    public var debug: Bool = false
    /// Upper bound on worker threads of the multi-threaded loop.
    public var maxThreads: UInt32 = 16
    /// Idle worker threads kept around before they are torn down.
    public var maxIdleThreads: UInt32 = 10
    /// One /dev/fuse descriptor per worker thread (less contention).
    public var cloneFD: Bool = true
    /// The mount's kernel read-ahead window in KiB, set once the mount is
    /// live (needs root); nil leaves the kernel's 128 KiB.
    public var readAheadKilobytes: Int? = 1024
    /// Install libfuse's SIGINT/SIGTERM/SIGHUP handlers (ending the loop)
    /// while the loop runs. Only one session per process may have them.
    public var installSignalHandlers: Bool = true

    /// Defaults: fsname `cvmfs2`, no subtype, 16 threads, clone_fd, signal handlers.
    public init() {}

    /// The mount is always read-only; the kernel then answers writes with
    /// EROFS before they reach us (docs/format/client-behaviour.md §9).
    var mountOptionString: String {
        var parts = ["ro", "fsname=\(fsName)"]
        if let subtype { parts.append("subtype=\(subtype)") }
        if allowOther { parts.append("allow_other") }
        if defaultPermissions { parts.append("default_permissions") }
        parts.append(contentsOf: extraOptions)
        return parts.joined(separator: ",")
    }

    /// The argument vector handed to `fuse_session_new`.
    var arguments: [String] {
        var argv = [fsName, "-o", mountOptionString]
        if debug { argv.append("-d") }
        return argv
    }
}
