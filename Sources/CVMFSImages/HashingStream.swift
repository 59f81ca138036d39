/// Passes bytes through while computing their SHA-256 and counting them
/// (the uncompressed "diff id" of a layer, or a blob's digest).
final class HashingStream: ByteStream {
    private let source: ByteStream
    private var hasher = SHA256Hasher()
    private(set) var count: Int64 = 0

    init(source: ByteStream) { self.source = source }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        let n = try source.read(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<n]))
        count += Int64(n)
        return n
    }

    /// Reads the rest of the stream and returns the digest of everything read.
    func finish() throws(ImageError) -> Digest {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
        return hasher.finalize()
    }
}
