import CZlib

/// Turns plain bytes into an object as the server stores it: zlib-deflated at
/// the default level (or left plain), hashed over the stored bytes
/// (docs/format/objects-and-chunks.md §1).
public struct ObjectEncoder: ~Copyable {
    public let compression: Compression
    private var hasher: ContentHasher
    private var stream: UnsafeMutablePointer<z_stream>?
    private var outputBuffer: UnsafeMutableRawBufferPointer
    public private(set) var plainSize: Int64 = 0
    public private(set) var storedSize: Int64 = 0

    private static let chunk = 256 * 1024

    public init(algorithm: HashAlgorithm, compression: Compression) {
        self.compression = compression
        hasher = ContentHasher(algorithm)
        outputBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunk, alignment: 16)
        if compression == .zlib {
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            if cvmfs_deflate_init(s, Z_DEFAULT_COMPRESSION) != Z_OK { fatalError("zlib deflateInit failed: out of memory") }
            stream = s
        }
    }

    deinit {
        if let stream {
            deflateEnd(stream)
            stream.deallocate()
        }
        outputBuffer.deallocate()
    }

    /// Encodes `bytes`, passing stored bytes to `sink` as they are produced.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        plainSize += Int64(bytes.count)
        try run(bytes, flush: Z_NO_FLUSH, into: sink)
    }

    /// Flushes the encoder and returns the object's name.
    public mutating func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows -> ContentHash {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, into: sink)
        return hasher.finalize()
    }

    private mutating func run(_ bytes: UnsafeRawBufferPointer, flush: Int32, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard let stream else {
            if bytes.count > 0 {
                hasher.update(bytes)
                storedSize += Int64(bytes.count)
                try sink(bytes)
            }
            return
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        let out = outputBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        while true {
            stream.pointee.next_out = out
            stream.pointee.avail_out = uInt(Self.chunk)
            let rc = deflate(stream, flush)
            precondition(rc != Z_STREAM_ERROR, "zlib deflate state corrupted")
            let produced = Self.chunk - Int(stream.pointee.avail_out)
            if produced > 0 {
                let chunk = UnsafeRawBufferPointer(start: out, count: produced)
                hasher.update(chunk)
                storedSize += Int64(produced)
                try sink(chunk)
            }
            if flush == Z_FINISH {
                if rc == Z_STREAM_END { return }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                return
            }
        }
    }

    /// Encodes a whole buffer: the stored bytes and their hash.
    public static func encode(_ bytes: [UInt8], algorithm: HashAlgorithm, compression: Compression) -> (stored: [UInt8], hash: ContentHash) {
        var encoder = ObjectEncoder(algorithm: algorithm, compression: compression)
        var out = [UInt8]()
        bytes.withUnsafeBytes { encoder.consume($0) { out.append(contentsOf: $0) } }
        let hash = encoder.finish { out.append(contentsOf: $0) }
        return (out, hash)
    }
}
