import CVMFSFormat

/// What to publish and how.
public struct PublishOptions: Sendable {
    /// Fully qualified repository name, e.g. `demo.cvmfs.local`.
    public var fqrn: String
    /// Folder holding (or receiving) the master key, certificate and their private keys.
    public var keyDirectory: String
    public var algorithm: HashAlgorithm = .sha1
    public var compression: Compression = .zlib
    public var chunking: ChunkingParameters = .upstreamDefault
    /// Catalog TTL in seconds, written to the root catalog (docs/format/catalogs.md §6).
    public var ttl: UInt64 = 240
    /// Days until the signed whitelist expires (upstream re-signs every 30 days).
    public var whitelistValidityDays: Int = 30
    /// Worker threads for hashing and compressing file content.
    public var threads: Int = 0
    /// Start-up profiles stored into the published tree (docs/profiles.md).
    public var profiles: [ProfileSource] = []
    /// Named tags for the new revision, beside `trunk` (docs/format/repository-layout.md §4.1).
    public var tags: [String] = []
    public var tagDescription: String = ""
    /// Publish time; tests pin it.
    public var now: Int64? = nil

    public init(fqrn: String, keyDirectory: String) {
        self.fqrn = fqrn
        self.keyDirectory = keyDirectory
    }
}

/// What a publish did.
public struct PublishReport: Sendable {
    public var revision: UInt64
    public var rootCatalog: ContentHash
    /// The new history database (manifest `H`).
    public var history: ContentHash
    public var entries: Int
    public var regularFiles: Int
    public var bytesRead: Int64
    public var objectsWritten: Int
    public var objectBytesWritten: Int64
    public var objectsReused: Int
    public var catalogsWritten: Int
    public var catalogsReused: Int
    public var seconds: Double
}
