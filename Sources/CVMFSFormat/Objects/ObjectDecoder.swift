import CZlib

/// Streams an object's bytes as served, verifying its content hash and
/// inflating zlib on the fly (docs/format/objects-and-chunks.md §1–2).
///
/// Feed the bytes with `consume`, then call `finish`: only when `finish`
/// succeeds have the hash, the zlib end marker and (if given) the size been
/// checked. Until then the decoded bytes handed to `sink` must be treated as
/// untrusted: callers write them to a temporary file and rename on success.
///
/// A body longer than the object it claims to be is refused while it
/// arrives, not at `finish`, so a hostile or broken server cannot make the
/// caller receive or store more than the object: bytes after the end of the
/// zlib stream, and (when `sizeLimit` is given) decoded bytes beyond it,
/// throw at once (docs/format/objects-and-chunks.md §6).
public struct ObjectDecoder: ~Copyable {
    public let expected: ContentHash
    public let compression: Compression
    /// The most decoded bytes accepted: the size the catalog gives the
    /// object, when the caller knows it.
    public let sizeLimit: Int64?
    private var hasher: ContentHasher
    private var stream: UnsafeMutablePointer<z_stream>?
    private var ended = false
    private var failure: ObjectError?
    /// zlib refused the stream: the rest is only hashed, so that `finish`
    /// can report a hash mismatch, which explains the zlib error better.
    private var inflateFailed = false
    private var outputBuffer: UnsafeMutableRawBufferPointer
    public private(set) var decodedSize: Int64 = 0

    /// Size of the inflate output buffer: large enough that zlib's per-call
    /// overhead disappears, small enough to stay in L2.
    private static let chunk = 256 * 1024

    public init(expected: ContentHash, compression: Compression, sizeLimit: Int64? = nil) {
        self.expected = expected
        self.compression = compression
        self.sizeLimit = sizeLimit
        hasher = ContentHasher(expected.algorithm)
        outputBuffer = compression == .zlib
            ? UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunk, alignment: 16)
            : UnsafeMutableRawBufferPointer(start: nil, count: 0)
        if compression == .zlib {
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            if cvmfs_inflate_init(s) != Z_OK { fatalError("zlib inflateInit failed: out of memory") }
            stream = s
        }
    }

    deinit {
        if let stream {
            inflateEnd(stream)
            stream.deallocate()
        }
        outputBuffer.deallocate()
    }

    /// Hashes `bytes` and passes what they decode to into `sink`.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws(ObjectError) {
        if let failure, !inflateFailed { throw failure }
        hasher.update(bytes)
        if inflateFailed { return }
        guard let stream else {
            try checkLimit(adding: bytes.count)
            decodedSize += Int64(bytes.count)
            do { try sink(bytes) } catch { throw fail(.sinkFailed(object: expected, reason: "\(error)")) }
            return
        }
        guard bytes.count > 0 else { return }
        if ended { throw fail(.trailingData(object: expected)) }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        let out = outputBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        repeat {
            stream.pointee.next_out = out
            stream.pointee.avail_out = uInt(Self.chunk)
            let rc = inflate(stream, Z_NO_FLUSH)
            let produced = Self.chunk - Int(stream.pointee.avail_out)
            if produced > 0 {
                try checkLimit(adding: produced)
                decodedSize += Int64(produced)
                do { try sink(UnsafeRawBufferPointer(start: out, count: produced)) } catch {
                    throw fail(.sinkFailed(object: expected, reason: "\(error)"))
                }
            }
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_STREAM_END:
                ended = true
                if stream.pointee.avail_in > 0 { throw fail(.trailingData(object: expected)) }
                return
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                return inflateFailure(.corruptStream(object: expected, reason: message))
            }
        } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
    }

    /// Checks the hash (first: a wrong hash explains any zlib error), then
    /// the end of the zlib stream and the expected size.
    public mutating func finish(expectedSize: Int64? = nil) throws(ObjectError) {
        let actual = hasher.finalize()
        if actual != expected { throw .hashMismatch(expected: expected, actual: actual) }
        if let failure { throw failure }
        if compression == .zlib && !ended { throw .truncatedStream(object: expected) }
        if let expectedSize, expectedSize != decodedSize {
            throw .sizeMismatch(object: expected, expected: expectedSize, actual: decodedSize)
        }
    }

    /// Refuses decoded bytes beyond `sizeLimit` before they reach the sink.
    private mutating func checkLimit(adding count: Int) throws(ObjectError) {
        guard let sizeLimit, decodedSize + Int64(count) > sizeLimit else { return }
        throw fail(.longerThanExpected(object: expected, expected: sizeLimit, atLeast: decodedSize + Int64(count)))
    }

    private mutating func inflateFailure(_ error: ObjectError) {
        failure = error
        inflateFailed = true
    }

    private mutating func fail(_ error: ObjectError) -> ObjectError {
        failure = error
        return error
    }

    /// Decodes a whole object held in memory.
    public static func decode(_ bytes: [UInt8], expected: ContentHash, compression: Compression, expectedSize: Int64? = nil) throws(ObjectError) -> [UInt8] {
        var decoder = ObjectDecoder(expected: expected, compression: compression)
        var out = [UInt8]()
        let consumed: Result<Void, ObjectError> = bytes.withUnsafeBytes { raw in
            do throws(ObjectError) {
                try decoder.consume(raw) { out.append(contentsOf: $0) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = consumed {
            // A hash mismatch explains a zlib failure better than zlib's message.
            let actual = ContentHasher.hash(bytes, algorithm: expected.algorithm)
            if actual != expected { throw .hashMismatch(expected: expected, actual: actual) }
            throw error
        }
        try decoder.finish(expectedSize: expectedSize)
        return out
    }
}
