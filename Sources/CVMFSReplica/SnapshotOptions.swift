/// What `cvmfs-swift snapshot` replicates, from where, and how.
public struct SnapshotOptions: Sendable {
    /// The source repository's URL (a stratum 0 or another stratum 1), ending in `/<fqrn>`.
    public var url: String
    /// The replica folder a web server serves.
    public var folder: String
    public var fqrn: String
    /// Master public keys the source's whitelist must be signed by.
    public var publicKeyPaths: [String]
    public var proxy: String = "DIRECT"
    /// Concurrent downloads.
    public var threads: Int = 16
    public var timeoutSeconds: Int = 10
    /// The progress line on a terminal.
    public var showProgress: Bool = true

    public init(url: String, folder: String, fqrn: String, publicKeyPaths: [String]) {
        self.url = url
        self.folder = folder
        self.fqrn = fqrn
        self.publicKeyPaths = publicKeyPaths
    }
}

/// What a snapshot did.
public struct SnapshotReport: Sendable {
    public var revision: UInt64
    /// False when the replica already held the source's revision.
    public var updated: Bool
    public var catalogsFetched: Int
    public var objectsFetched: Int
    public var bytesFetched: Int64
    /// Objects the replica already held (shared with earlier revisions).
    public var objectsPresent: Int
    public var seconds: Double
}
