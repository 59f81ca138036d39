import CVMFSClient
#if canImport(Glibc)
import Glibc
#endif

extension FileSystemError {
    /// The errno the kernel sees for this failure (docs/format/client-behaviour.md §9).
    /// This is the only place where core errors become errno values.
    public var errno: Int32 {
        switch self {
        case .notFound, .notFoundUncached: return ENOENT
        case .object(_, let cause): return cause.isNoSpace ? ENOSPC : EIO
        case .catalog, .read, .inconsistent: return EIO
        case .notADirectory: return ENOTDIR
        case .isADirectory: return EISDIR
        case .notASymlink: return EINVAL
        case .noAttribute: return ENODATA
        case .tooManyOpenFiles: return EMFILE
        case .permissionDenied: return EACCES
        case .staleHandle: return ESTALE
        case .readOnly: return EROFS
        }
    }
}
