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

    /// Streams the stored object at `relativePath` to `body`, inflated and checked against
    /// `hash` (and `expectedSize`) on the way. Until this returns, what `body` got is untrusted.
    public func streamObject(_ hash: ContentHash, at relativePath: String, compression: Compression, expectedSize: UInt64? = nil,
                             into body: (UnsafeRawBufferPointer) throws(ObjectError) -> Void) throws(RepositoryError) {
        var decoder = ObjectDecoder(expected: hash, compression: compression)
        try read(relativePath) { (chunk: UnsafeRawBufferPointer) throws(ObjectError) in
            try decoder.consume(chunk, into: body)
        }
        do {
            try decoder.finish(expectedSize: expectedSize.map { Int64($0) })
        } catch {
            throw .object(path: relativePath, error)
        }
    }
}
