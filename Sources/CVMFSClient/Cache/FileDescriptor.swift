#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor handed out by the cache (a plain `CInt` underneath).
///
/// The caller owns it and must `close()` it; the cache never closes a
/// descriptor it returned.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    /// The kernel's descriptor number.
    public let rawValue: CInt

    /// Wraps a descriptor number.
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// Closes the descriptor. `EINTR` is not retried: on Linux the descriptor
    /// is released even when `close` is interrupted (close(2), "Dealing with
    /// error returns from close()").
    public func close() {
        CacheSyscall.close(rawValue)
    }

    /// Reads up to `buffer.count` bytes at `offset` (pread(2)); returns the number read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(CacheSyscall.Errno) -> Int {
        try CacheSyscall.pread(rawValue, buffer, offset)
    }

    /// Reads the whole file from the start, handing it to `body` in blocks.
    public func forEachBlock(_ body: (UnsafeRawBufferPointer) -> Void) throws(CacheSyscall.Errno) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try read(into: buffer, at: offset)
            if n <= 0 { return }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += Int64(n)
        }
    }
}
