/// Why mounting or serving failed.
public enum FuseMountError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `fuse_session_new` rejected the options (libfuse printed why on stderr).
    case sessionCreation(arguments: [String])
    /// `fuse_session_mount` failed (missing mount point, no permission, no /dev/fuse).
    case mount(mountPoint: String)
    /// `fuse_set_signal_handlers` failed.
    case signalHandlers
    /// `fuse_session_loop_mt` returned an error (libfuse's negative errno, negated).
    case loop(errno: Int32)

    public var description: String {
        switch self {
        case .sessionCreation(let arguments): return "cannot create FUSE session with arguments \(arguments)"
        case .mount(let mountPoint): return "cannot mount on \(mountPoint)"
        case .signalHandlers: return "cannot install FUSE signal handlers"
        case .loop(let errno): return "FUSE loop failed with errno \(errno)"
        }
    }
}
