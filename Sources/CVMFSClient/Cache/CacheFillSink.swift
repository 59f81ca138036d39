#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// Streams an object's served bytes through an `ObjectDecoder` into a temp
/// file in `txn/`. `ObjectCache.fetch` hands one to the download closure and
/// renames the file into place only after `finish()` succeeded.
///
/// Used by one thread at a time (the producer of a fill); not `Sendable`.
public final class CacheFillSink: ObjectSink {
    public let hash: ContentHash
    public let compression: Compression
    public let expectedSize: Int64?
    let fd: CInt
    let tempPath: String
    private let directory: CacheDirectory
    private var decoder: ObjectDecoder
    /// Inflated bytes written to the temp file in this attempt.
    public private(set) var writtenSize: Int64 = 0
    /// Quota space held for this fill; grows (evicting first) when the
    /// decoded bytes outgrow it.
    private(set) var reservation: Int64
    private let grow: (_ needed: Int64, _ current: Int64) throws(CacheError) -> Int64
    /// True after a successful `finish()` with no `reset()`/`write` since.
    public private(set) var isFinished = false
    /// Why this attempt's bytes were refused, kept because the downloader
    /// reports a sink's refusal only as text; cleared by `reset()`.
    public private(set) var failure: CacheError?

    init(hash: ContentHash, compression: Compression, expectedSize: Int64?, fd: CInt, tempPath: String,
         directory: CacheDirectory, reservation: Int64,
         grow: @escaping (_ needed: Int64, _ current: Int64) throws(CacheError) -> Int64) {
        self.hash = hash
        self.compression = compression
        self.expectedSize = expectedSize
        self.fd = fd
        self.tempPath = tempPath
        self.directory = directory
        self.reservation = reservation
        self.grow = grow
        decoder = ObjectDecoder(expected: hash, compression: compression, sizeLimit: expectedSize)
    }

    /// Truncates the temp file and restarts the decoder (a download retry).
    public func reset() throws {
        do { try CacheSyscall.ftruncate(fd, 0) } catch {
            throw refuse(.io(operation: "ftruncate", path: tempPath, errno: error.rawValue))
        }
        failure = nil
        writtenSize = 0
        isFinished = false
        decoder = ObjectDecoder(expected: hash, compression: compression, sizeLimit: expectedSize)
    }

    /// Hashes and inflates `bytes` and appends the result to the temp file.
    /// Throws `CacheError` (quota, I/O or `verificationFailed`).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(CacheError) {
        isFinished = false
        var local: CacheError?
        do {
            try decoder.consume(bytes) { decoded in
                do throws(CacheError) { try self.append(decoded) } catch {
                    local = error
                    throw error
                }
            }
        } catch {
            throw refuse(local ?? .verificationFailed(hash: hash, reason: error))
        }
    }

    private func refuse(_ error: CacheError) -> CacheError {
        failure = error
        return error
    }

    /// Verifies hash, zlib end and size. On a size mismatch a copy of the
    /// inflated bytes goes to `quarantaine/<hash>` (docs/format/objects-and-chunks.md §6).
    public func finish() throws(CacheError) {
        do {
            try decoder.finish(expectedSize: expectedSize)
        } catch {
            if case .sizeMismatch = error { quarantine() }
            throw refuse(.verificationFailed(hash: hash, reason: error))
        }
        isFinished = true
    }

    private func append(_ decoded: UnsafeRawBufferPointer) throws(CacheError) {
        let end = writtenSize + Int64(decoded.count)
        if end > reservation { reservation = try grow(end, reservation) }
        do { try CacheSyscall.pwriteAll(fd, decoded, writtenSize) } catch {
            throw .io(operation: "write", path: tempPath, errno: error.rawValue)
        }
        writtenSize = end
    }

    /// Best effort: quarantine is forensic, its failure must not hide the real error.
    private func quarantine() {
        let target = directory.quarantinePath(hash)
        guard let out = try? CacheSyscall.open(target, O_WRONLY | O_CREAT | O_TRUNC, 0o600) else { return }
        defer { CacheSyscall.close(out) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while let n = try? CacheSyscall.pread(fd, buffer, offset), n > 0 {
            guard (try? CacheSyscall.pwriteAll(out, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), offset)) != nil else { return }
            offset += Int64(n)
        }
    }
}
