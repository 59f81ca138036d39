import CFuse3
import CVMFSClient
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Mounts a `FileSystemCore` with libfuse's low-level API and serves it with
/// the multi-threaded loop until the file system is unmounted, a signal
/// arrives, or `requestExit()` is called.
///
/// Sequence (docs/fuse-notes.md §4): `fuse_session_new` → `fuse_session_mount` →
/// `fuse_set_signal_handlers` → `fuse_session_loop_mt` (clone_fd), then the
/// reverse: remove signal handlers → `fuse_session_unmount` → `fuse_session_destroy`.
public final class FuseMount: Sendable {
    /// The signal `requestExit()` sends to the loop thread to wake it up.
    public static let wakeupSignal: Int32 = SIGUSR2

    public let mountPoint: String
    public let options: FuseMountOptions
    private let context: FuseContext

    struct LoopState {
        /// The running session's address (`fuse_session_exit` may be called
        /// from any thread); nil before the mount and after the loop.
        var session: UInt?
        /// The thread blocked in `fuse_session_loop_mt`.
        var loopThread: pthread_t?
        var exitRequested = false
    }
    let state = Mutex(LoopState())

    /// Prepares a mount of `core` on `mountPoint`; nothing happens until `run`.
    public init(core: any FileSystemCore, mountPoint: String, options: FuseMountOptions = FuseMountOptions()) {
        self.context = FuseContext(core: core, mountPoint: mountPoint, readAheadKilobytes: options.readAheadKilobytes)
        self.mountPoint = mountPoint
        self.options = options
    }

    /// Mounts, calls `onMounted` once the mount is live (from this thread,
    /// before the loop starts: a daemon reports success to its parent there),
    /// serves requests until the loop ends, and tears everything down.
    /// Blocks the calling thread for the life of the mount.
    ///
    /// - Returns: the signal that ended the loop, or 0 (unmount, `requestExit`).
    @discardableResult
    public func run(onMounted: () -> Void = {}) throws(FuseMountError) -> Int32 {
        let arguments = options.arguments
        // fuse_args wants mutable C strings that outlive the session.
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var argv = cStrings
        var ops = FuseOperations.table()
        let userdata = Unmanaged.passRetained(context)
        defer { userdata.release() }

        let rc: Int32 = try argv.withUnsafeMutableBufferPointer { argvBuffer throws(FuseMountError) in
            var args = cvmfs_fuse_args_init(Int32(argvBuffer.count), argvBuffer.baseAddress)
            defer { fuse_opt_free_args(&args) }
            guard let session = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque()) else {
                throw .sessionCreation(arguments: arguments)
            }
            defer { fuse_session_destroy(session) }
            guard fuse_session_mount(session, mountPoint) == 0 else {
                throw .mount(mountPoint: mountPoint)
            }
            defer { fuse_session_unmount(session) }
            if options.installSignalHandlers {
                guard fuse_set_signal_handlers(session) == 0 else { throw .signalHandlers }
            }
            defer { if options.installSignalHandlers { fuse_remove_signal_handlers(session) } }
            return serve(session, onMounted: onMounted)
        }
        if rc < 0 { throw .loop(errno: -rc) }
        return rc
    }

    private func serve(_ session: OpaquePointer, onMounted: () -> Void) -> Int32 {
        _ = cvmfs_fuse_install_wakeup_handler(Self.wakeupSignal)
        let address = UInt(bitPattern: session)
        let exitEarly = state.withLock { state in
            state.session = address
            state.loopThread = pthread_self()
            return state.exitRequested
        }
        defer { state.withLock { $0.session = nil; $0.loopThread = nil } }
        if exitEarly { fuse_session_exit(session) }
        onMounted()

        guard let config = fuse_loop_cfg_create() else { return -ENOMEM }
        defer { fuse_loop_cfg_destroy(config) }
        fuse_loop_cfg_set_clone_fd(config, options.cloneFD ? 1 : 0)
        fuse_loop_cfg_set_max_threads(config, options.maxThreads)
        fuse_loop_cfg_set_idle_threads(config, options.maxIdleThreads)
        return fuse_session_loop_mt(session, config)
    }

    /// Ends the loop from any thread (orderly shutdown): marks the session as
    /// exited and wakes the loop thread with `wakeupSignal`, so `run` tears
    /// down and returns. Called before the loop starts, the loop ends at once.
    ///
    /// The loop thread re-checks the exit flag only when its `sem_wait` is
    /// interrupted, and a signal that lands just before it enters `sem_wait`
    /// is lost; so the signal is repeated every 10 ms until the loop has
    /// returned, for at most 0.5 s (bounded, so calling this from a request
    /// handler, which the loop must join, cannot deadlock).
    public func requestExit() {
        for _ in 0..<50 {
            let running = state.withLock { state -> Bool in
                state.exitRequested = true
                guard let address = state.session, let thread = state.loopThread else { return false }
                fuse_session_exit(OpaquePointer(bitPattern: address))
                pthread_kill(thread, Self.wakeupSignal)
                return true
            }
            if !running { return }
            usleep(10_000)
        }
    }
}
