import CVMFSFormat

/// Where the file system gets verified, inflated objects from: the local
/// cache, filled from the network on a miss.
public protocol ObjectProvider: Sendable {
    /// Opens the inflated object read-only and pins it until `unpin`;
    /// downloads and verifies it first if it is not cached.
    func openPinned(_ hash: ContentHash, suffix: ObjectSuffix, compression: Compression, expectedSize: UInt64?) throws(FileSystemError) -> Int32
    func unpin(_ hash: ContentHash)
    /// The hash of the cached, inflated copy of an object, recomputed from
    /// the cache file (`user.lhash`); nil when the object is not cached.
    func cachedCopyHash(_ hash: ContentHash) -> ContentHash?
    /// The path of a cached, inflated catalog (downloaded if missing), pinned
    /// for as long as it is mounted.
    func catalogFile(_ hash: ContentHash) throws(FileSystemError) -> String
    /// Fetches a chunk into the cache ahead of a sequential reader, unpinned,
    /// if the cache has room to spare; false when skipped or failed.
    func prefetch(_ hash: ContentHash, compression: Compression, expectedSize: UInt64) -> Bool
}

extension ObjectProvider {
    /// Fetches a chunk into the cache ahead of a sequential reader, unpinned,
    /// if the cache has room to spare; false when skipped or failed.
    /// Default: never (providers without a cache).
    public func prefetch(_ hash: ContentHash, compression: Compression, expectedSize: UInt64) -> Bool { false }
}
