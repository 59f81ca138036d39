/// How entries are presented (docs/format/client-behaviour.md §3, docs/format/catalogs.md §11).
public struct FileSystemSettings: Sendable {
    /// `CVMFS_KCACHE_TIMEOUT`.
    public var kernelCacheTimeout: Double = 60
    /// `CVMFS_CLAIM_OWNERSHIP`: report every entry as owned by this uid/gid.
    public var claimedOwner: (uid: UInt32, gid: UInt32)? = nil
    /// `CVMFS_WORLD_READABLE`.
    public var worldReadable = false
    /// `CVMFS_SERVER_CACHE_MODE`: show raw symlink targets.
    public var expandSymlinks = true
    /// Resolves `$(VAR)` in variant symlinks: parameters, then the environment.
    public var variable: @Sendable (String) -> String? = { _ in nil }
    /// `CVMFS_MAGIC_XATTRS_VISIBILITY`: `rootonly`, `always` or `never`.
    public var magicXattrVisibility: MagicXattrVisibility = .rootOnly
    /// Files open at once before `open` answers EMFILE (from `CVMFS_NFILES`, `OpenFileLimit`).
    public var maxOpenFiles = Int.max

    public init() {}
}

/// Which magic extended attributes `listxattr` shows.
public enum MagicXattrVisibility: String, Sendable {
    case rootOnly = "rootonly"
    case always
    case never
}
