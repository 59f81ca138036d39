import Glibc
import CVMFSFormat

/// The process's limit on open descriptors (`RLIMIT_NOFILE`), which
/// `CVMFS_NFILES` sets for a mount's daemon (docs/format/client-behaviour.md §4)
/// and which bounds how many files the mount keeps open (`FileSystemSettings.maxOpenFiles`).
public enum OpenFileLimit {
    /// Descriptors kept back for catalogs, sockets, the cache database and downloads.
    static let reserve = 512

    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur >= rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }

    /// Sets the soft limit to `count`, raising the hard limit too when that
    /// is allowed (root); returns what failed, or nil.
    public static func set(_ count: Int) -> String? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return errnoText() }
        let wanted = rlim_t(count)
        if wanted > limit.rlim_max {
            var raised = rlimit(rlim_cur: wanted, rlim_max: wanted)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { return nil }
            let reason = errnoText()
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            return "cannot raise the open file limit to \(count) (CVMFS_NFILES), kept \(limit.rlim_max): \(reason)"
        }
        limit.rlim_cur = wanted
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return "cannot set the open file limit to \(count) (CVMFS_NFILES): \(errnoText())"
        }
        return nil
    }

    /// How many files a mount under this limit keeps open before `open` fails
    /// with EMFILE: the limit less a reserve (at most half of it).
    public static var openFileBudget: Int {
        let limit = current
        return max(1, limit - min(reserve, limit / 2))
    }
}
