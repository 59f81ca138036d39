/// Where a repository's files come from: a folder as a web server would
/// serve it, or (in the client layer) an HTTP server.
public protocol RepositorySource: Sendable {
    /// Names the source in messages.
    var location: String { get }
    /// Streams the file at `relativePath` (e.g. `.cvmfspublished`,
    /// `data/ab/cdef…C`) to `body`, in pieces.
    func read(_ relativePath: String, into body: (UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError)
}

extension RepositorySource {
    /// The whole file in memory.
    public func read(_ relativePath: String) throws(RepositoryError) -> [UInt8] {
        var bytes = [UInt8]()
        try read(relativePath) { bytes.append(contentsOf: $0) }
        return bytes
    }
}
