/// Why a file-system operation failed. The FUSE adapter maps each case to one
/// errno (docs/format/client-behaviour.md §9); the core never deals in errno.
public enum FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not exist (cacheable as a negative entry).
    case notFound
    /// A catalog, a download or a verification failed; the message names what.
    case io(String)
    case notADirectory
    case isADirectory
    /// readlink on something that is not a symlink.
    case notASymlink
    /// The extended attribute does not exist or does not apply.
    case noAttribute
    /// An object is too large for the cache quota.
    case noSpace
    case tooManyOpenFiles
    case permissionDenied
    /// The inode or handle is unknown (the kernel forgot it, or a bug).
    case staleHandle
    /// The operation would modify the read-only file system.
    case readOnly

    public var description: String {
        switch self {
        case .notFound: return "no such file or directory"
        case .io(let reason): return "I/O error: \(reason)"
        case .notADirectory: return "not a directory"
        case .isADirectory: return "is a directory"
        case .notASymlink: return "not a symbolic link"
        case .noAttribute: return "no such attribute"
        case .noSpace: return "object larger than the cache can hold"
        case .tooManyOpenFiles: return "too many open files"
        case .permissionDenied: return "permission denied"
        case .staleHandle: return "stale inode or handle"
        case .readOnly: return "read-only file system"
        }
    }
}
