import CVMFSFormat

/// Why a file-system operation failed. The causes travel with it, so a log
/// line names what failed and where, and only the FUSE adapter turns a case
/// into an errno (docs/format/client-behaviour.md §9); the core never deals
/// in errno.
public enum FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not exist (cacheable as a negative entry).
    case notFound
    /// The path does not exist, and the kernel must not cache that: more
    /// misses are cached already than a revision switch would take back (`KernelMissLog`).
    case notFoundUncached
    /// A catalog could not be opened or read: SQLite failed, a row is
    /// corrupt, or a name would escape its directory.
    case catalog(CatalogError)
    /// An object could not be brought into the cache or read from it: its
    /// download failed, its bytes did not verify, the cache has no room, or
    /// a cache file could not be read. `object` is its path below `data/`.
    case object(String, CacheError)
    /// Reading the cached data of a file failed with `errno`.
    case read(path: String, errno: Int32)
    /// The repository contradicts itself: an entry vanished from the catalog
    /// that listed it, a nested catalog has no hash, a chunk is shorter than
    /// its catalog says, a root catalog has no root entry.
    case inconsistent(String)
    case notADirectory
    case isADirectory
    /// readlink on something that is not a symlink.
    case notASymlink
    /// The extended attribute does not exist or does not apply.
    case noAttribute
    case tooManyOpenFiles
    case permissionDenied
    /// The inode or handle is unknown (the kernel forgot it, or a bug).
    case staleHandle
    /// The operation would modify the read-only file system.
    case readOnly

    /// A failure of the repository, the network or the cache (as opposed to
    /// a question with a negative answer): what `user.nioerr` counts.
    public var isIOError: Bool {
        switch self {
        case .catalog, .object, .read, .inconsistent: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .notFound, .notFoundUncached: return "no such file or directory"
        case .catalog(let cause): return "\(cause)"
        case .object(let object, let cause): return "object \(object): \(cause)"
        case .read(let path, let code): return "reading \(path): \(errnoText(code))"
        case .inconsistent(let reason): return "inconsistent repository: \(reason)"
        case .notADirectory: return "not a directory"
        case .isADirectory: return "is a directory"
        case .notASymlink: return "not a symbolic link"
        case .noAttribute: return "no such attribute"
        case .tooManyOpenFiles: return "too many open files"
        case .permissionDenied: return "permission denied"
        case .staleHandle: return "stale inode or handle"
        case .readOnly: return "read-only file system"
        }
    }
}
