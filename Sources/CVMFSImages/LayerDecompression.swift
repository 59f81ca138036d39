/// A layer blob's tar, whatever the blob's compression, told by its first bytes (registries
/// and `docker save` do not always say it in the media type): gzip is inflated, a plain tar
/// passes through, zstd is refused with a clear message.
enum LayerDecompression {
    static func tarStream(_ blob: ByteStream, layer: String) throws(ImageError) -> ByteStream {
        let peeked = PeekedStream(source: blob)
        let magic = try peeked.peek(4)
        if magic.count >= 2 && magic[0] == 0x1F && magic[1] == 0x8B { return try GzipStream(source: peeked) }
        if magic == [0x28, 0xB5, 0x2F, 0xFD] { throw .layer("\(layer): zstd-compressed layers are not supported") }
        return peeked
    }
}

/// A stream whose first bytes can be looked at before they are read.
final class PeekedStream: ByteStream {
    private let source: ByteStream
    private var pending: [UInt8] = []

    init(source: ByteStream) { self.source = source }

    /// Up to `count` bytes from the front (fewer only at the end of the stream), kept for `read`.
    func peek(_ count: Int) throws(ImageError) -> [UInt8] {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { chunk.deallocate() }
        while pending.count < count {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<(count - pending.count)]))
            if n == 0 { break }
            pending += UnsafeRawBufferPointer(rebasing: chunk[0..<n])
        }
        return Array(pending.prefix(count))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        if pending.isEmpty { return try source.read(into: buffer) }
        let n = min(buffer.count, pending.count)
        pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        pending.removeFirst(n)
        return n
    }
}
