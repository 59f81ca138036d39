import Glibc
import CVMFSFormat

/// A kernel buffer between a thread that receives a layer blob from the network and the
/// thread that unpacks it: the download writes chunks in, the unpacker reads them out as a
/// `ByteStream`. Its fixed capacity is the only buffering, so a layer never sits in memory
/// and a slow unpacker slows the download down instead of piling data up.
///
/// A connected Unix socket pair rather than a pipe: `send(MSG_NOSIGNAL)` reports a reader
/// that went away as EPIPE instead of raising SIGPIPE, which would end the process.
final class StreamPipe: @unchecked Sendable {  // each end is used by one thread; close is once per end
    private var readFd: Int32
    private var writeFd: Int32

    init() throws(ImageError) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .io(path: "socketpair", reason: errnoText())
        }
        readFd = fds[0]
        writeFd = fds[1]
        _ = shutdown(readFd, Int32(SHUT_WR))
        _ = shutdown(writeFd, Int32(SHUT_RD))
    }

    deinit {
        closeReading()
        closeWriting()
    }

    /// Writes all of `chunk`, blocking while the buffer is full. Fails once the reader closed.
    func write(_ chunk: UnsafeRawBufferPointer) throws(ImageError) {
        var offset = 0
        while offset < chunk.count {
            let n = send(writeFd, chunk.baseAddress! + offset, chunk.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: Self.readerGonePath, reason: "the unpacker stopped reading (\(errnoText()))")
            }
            offset += n
        }
    }

    private static let readerGonePath = "layer stream (writing)"

    /// The error `write` throws once the reader closed.
    static func isReaderGone(_ error: ImageError) -> Bool {
        if case .io(let path, _) = error { return path == readerGonePath }
        return false
    }

    /// The end of the data: the reader sees the end of the stream once it has read the rest.
    func closeWriting() {
        if writeFd >= 0 { close(writeFd); writeFd = -1 }
    }

    /// The reader gives up: further writes fail.
    func closeReading() {
        if readFd >= 0 { close(readFd); readFd = -1 }
    }

    /// The reading end as a stream.
    var stream: ByteStream { Reader(pipe: self) }

    private final class Reader: ByteStream {
        let pipe: StreamPipe
        init(pipe: StreamPipe) { self.pipe = pipe }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
            while true {
                let n = Glibc.read(pipe.readFd, buffer.baseAddress, buffer.count)
                if n >= 0 { return n }
                if errno == EINTR { continue }
                throw .io(path: "layer stream", reason: "read: \(errnoText())")
            }
        }
    }
}
