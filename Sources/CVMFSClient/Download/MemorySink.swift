/// Collects a body in memory, refusing bodies larger than `limit` bytes.
///
/// Used for the manifest and the whitelist, which are small and signed rather than
/// content-addressed, so there is no hash to check here.
public final class MemorySink: DownloadSink {
    /// The most bytes accepted; a longer body is refused as bad data.
    public let limit: Int
    /// The bytes received by the latest attempt.
    public private(set) var bytes: [UInt8] = []

    public init(limit: Int) {
        self.limit = limit
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else { throw MemorySinkError.tooLarge(limit: limit) }
        bytes.append(contentsOf: chunk)
    }

    public func reset() { bytes.removeAll(keepingCapacity: true) }

    public func finish() {}
}

/// Why `MemorySink` refused a body.
public enum MemorySinkError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .tooLarge(let limit): return "body larger than the limit of \(limit) bytes"
        }
    }
}
