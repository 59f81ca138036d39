import CVMFSFormat

/// Why the local cache refused or failed an operation. Each case names the
/// object or path involved; the FUSE layer maps `objectTooLarge`, `noSpace`
/// and `pinLimitExceeded` to ENOSPC (docs/format/client-behaviour.md §9) and the rest to EIO.
public enum CacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The object is bigger than half the quota and can never enter the cache
    /// (docs/format/client-behaviour.md §10.2). `size` is the expected size or the bytes seen so far.
    case objectTooLarge(hash: ContentHash, size: Int64, limit: Int64)
    /// Eviction could not free enough space because too much is pinned.
    case noSpace(hash: ContentHash, needed: Int64, pinned: Int64, limit: Int64)
    /// Pinning would make pinned objects take more than the cleanup threshold.
    case pinLimitExceeded(hash: ContentHash, size: Int64, pinned: Int64, threshold: Int64)
    /// The object is not in the cache (for `pin`).
    case notCached(hash: ContentHash)
    /// A system call failed.
    case io(operation: String, path: String, errno: CInt)
    /// The bytes did not verify (hash, zlib or size; docs/format/objects-and-chunks.md §6).
    case verificationFailed(hash: ContentHash, reason: ObjectError)
    /// The download failed (every host and proxy tried, or bad data on all of them).
    case downloadFailed(hash: ContentHash, DownloadError)
    /// SQLite failed on the `cachedb`.
    case database(SQLiteError)
    /// The cache directory or a breadcrumb is not what it should be.
    case invalidLayout(path: String, reason: String)

    public var description: String {
        switch self {
        case let .objectTooLarge(hash, size, limit):
            return "object \(hash): \(size) bytes is more than half the cache quota of \(limit) bytes"
        case let .noSpace(hash, needed, pinned, limit):
            return "object \(hash): cannot free \(needed) bytes in a cache of \(limit) bytes with \(pinned) bytes pinned"
        case let .pinLimitExceeded(hash, size, pinned, threshold):
            return "object \(hash): pinning \(size) more bytes exceeds the pin limit \(threshold) (\(pinned) pinned)"
        case let .notCached(hash):
            return "object \(hash): not in the cache"
        case let .io(operation, path, code):
            return "\(operation) \(path): \(CacheSyscall.Errno(rawValue: code))"
        case let .verificationFailed(_, reason):
            return "\(reason)"
        case let .downloadFailed(hash, cause):
            return "object \(hash): download failed: \(cause)"
        case let .database(error):
            return "cache database: \(error)"
        case let .invalidLayout(path, reason):
            return "cache directory \(path): \(reason)"
        }
    }

    /// True for the cases the FUSE layer answers with ENOSPC.
    public var isNoSpace: Bool {
        switch self {
        case .objectTooLarge, .noSpace, .pinLimitExceeded: return true
        default: return false
        }
    }
}

extension CacheError: LocalSinkFailure {
    /// Everything but bytes that do not verify is the cache's own refusal.
    public var isLocal: Bool {
        if case .verificationFailed = self { return false }
        return true
    }
}
