import CVMFSFormat

/// The last root catalog a client mounted, kept in `cvmfschecksum.<fqrn>`
/// as `<hex hash><algid>T<timestamp>R<revision>` (docs/format/repository-layout.md §5).
public struct CacheBreadcrumb: Sendable, Hashable {
    public var catalogHash: ContentHash
    public var timestamp: Int64
    /// 0 for old breadcrumbs without `R<revision>`.
    public var revision: UInt64

    public init(catalogHash: ContentHash, timestamp: Int64, revision: UInt64) {
        self.catalogHash = catalogHash
        self.timestamp = timestamp
        self.revision = revision
    }

    /// The file's contents (no trailing newline).
    public var text: String { "\(catalogHash)T\(timestamp)R\(revision)" }

    /// Parses a breadcrumb; `nil` if it is malformed. A trailing newline is tolerated.
    public init?(text raw: some StringProtocol) {
        var text = Substring(raw)
        while text.last == "\n" || text.last == "\r" { text = text.dropLast() }
        // Hex digits and algorithm ids contain no uppercase `T` or `R`.
        guard let t = text.firstIndex(of: "T"), let hash = ContentHash(printable: text[..<t]) else { return nil }
        let rest = text[text.index(after: t)...]
        let stampText: Substring
        var revision: UInt64 = 0
        if let r = rest.firstIndex(of: "R") {
            stampText = rest[..<r]
            guard let value = UInt64(rest[rest.index(after: r)...]) else { return nil }
            revision = value
        } else {
            stampText = rest
        }
        guard let stamp = Int64(stampText) else { return nil }
        self.init(catalogHash: hash, timestamp: stamp, revision: revision)
    }
}
