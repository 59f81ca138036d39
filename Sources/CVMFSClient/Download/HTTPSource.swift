import CVMFSFormat

/// A repository read over HTTP through the downloader (with its host and
/// proxy failover), for the inspection commands.
public struct HTTPSource: RepositorySource {
    public let downloader: Downloader

    /// Objects are held in memory whole; this bounds one object.
    public static let objectLimit = 4 << 30

    public init(downloader: Downloader) {
        self.downloader = downloader
    }

    public var location: String { downloader.settings.hosts.joined(separator: ";") }

    public func read(_ relativePath: String, into body: (UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError) {
        let bytes: [UInt8]
        do {
            bytes = try downloader.fetchToMemory(relativePath, limit: Self.objectLimit)
        } catch {
            throw .unavailable(path: relativePath, reason: "\(error)")
        }
        let delivered: Result<Void, ObjectError> = bytes.withUnsafeBytes { raw in
            do throws(ObjectError) { try body(raw); return .success(()) } catch { return .failure(error) }
        }
        if case .failure(let error) = delivered { throw .object(path: relativePath, error) }
    }
}
