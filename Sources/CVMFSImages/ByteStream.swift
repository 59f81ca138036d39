import Glibc
import CVMFSFormat
import CZlib

/// A source of bytes read front to back: a file, or a decompressor over one.
package protocol ByteStream: AnyObject {
    /// Fills up to `buffer.count` bytes; 0 means the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int
}

/// Reads a file through a descriptor it owns.
final class FileStream: ByteStream {
    let path: String
    private let fd: Int32

    init(path: String) throws(ImageError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open: \(errnoText())") }
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .io(path: path, reason: "read: \(errnoText())")
        }
    }
}

/// Inflates gzip (or zlib) data, including concatenated gzip members.
package final class GzipStream: ByteStream {
    private let source: ByteStream
    private var stream = z_stream()
    private let input: UnsafeMutableRawBufferPointer
    private var finished = false
    private var sourceEnded = false

    package init(source: ByteStream) throws(ImageError) {
        self.source = source
        input = .allocate(byteCount: 1 << 18, alignment: 16)
        guard cvmfs_inflate_init_gzip(&stream) == Z_OK else {
            input.deallocate()
            throw .layer("inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        if finished || buffer.isEmpty { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(buffer.count)
        while stream.avail_out > 0 {
            if stream.avail_in == 0 && !sourceEnded {
                let n = try source.read(into: input)
                if n == 0 { sourceEnded = true } else {
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = uInt(n)
                }
            }
            if stream.avail_in == 0 && sourceEnded {
                if stream.total_out == 0 && stream.total_in == 0 { finished = true; break }
                // Input ended inside a member: only fine when the last call ended a member.
                throw .layer("gzip stream is truncated")
            }
            let status = inflate(&stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                // Another gzip member may follow (pigz, some registries); otherwise done.
                if stream.avail_in == 0 {
                    let n = try source.read(into: input)
                    if n == 0 { finished = true; break }
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = uInt(n)
                }
                if stream.next_in.pointee != 0x1F { finished = true; break }
                inflateReset(&stream)
                continue
            }
            if status == Z_BUF_ERROR && stream.avail_in == 0 { continue }
            guard status == Z_OK else {
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw .layer("gzip data is corrupt: \(message)")
            }
        }
        return buffer.count - Int(stream.avail_out)
    }
}
