import Glibc
import Synchronization
import CVMFSFormat

/// An open regular file. A whole-object file is downloaded at open and read
/// with `pread`; a chunked file fetches each chunk when a read first touches
/// it (docs/format/objects-and-chunks.md §4.2).
final class OpenFile: Sendable {
    /// The file's repository path, for messages.
    private let path: [UInt8]
    private let compression: Compression
    private let provider: any ObjectProvider
    private let recorder: ProfileRecorder
    /// Fetches the next chunks of a sequential read; nil reads chunk by chunk.
    private let readAhead: ChunkPrefetcher?
    private let content: Content
    /// The chunk a chunked file's handle has open; reads of one handle are serialized by it.
    private let current = Mutex<OpenChunk?>(nil)
    /// One past the last chunk handed to the prefetcher.
    private let prefetched = Atomic<Int>(0)

    private enum Content: Sendable {
        /// `size`: the cached file's length, the end of `pread` reads.
        case whole(fd: Int32, hash: ContentHash, size: UInt64)
        case chunked([FileChunk])
        case empty
    }

    private struct OpenChunk {
        var index: Int
        var fd: Int32
    }

    init(path: [UInt8], catalog: MountedCatalog, entry: DirectoryEntry, provider: any ObjectProvider,
         recorder: ProfileRecorder, readAhead: ChunkPrefetcher?) throws(FileSystemError) {
        self.path = path
        self.provider = provider
        self.recorder = recorder
        self.readAhead = readAhead
        compression = entry.compression
        let pathText = String(decoding: path, as: UTF8.self)
        if entry.isChunked {
            let chunks: [FileChunk]
            do {
                chunks = try catalog.catalog.chunks(of: entry)
            } catch {
                throw .catalog(error)
            }
            guard !chunks.isEmpty else { throw .inconsistent("chunked file \(pathText) has no chunks") }
            content = .chunked(chunks)
        } else if let hash = entry.contentHash {
            let fd = try provider.openPinned(hash, suffix: .none, compression: entry.compression, expectedSize: entry.size)
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let code = errno
                Glibc.close(fd)
                provider.unpin(hash)
                throw .read(path: pathText, errno: code)
            }
            content = .whole(fd: fd, hash: hash, size: UInt64(max(info.st_size, 0)))
        } else if entry.size == 0 {
            content = .empty
        } else {
            throw .inconsistent("\(pathText) has content but no content hash")
        }
    }

    func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> Int {
        switch content {
        case .empty:
            return 0
        case let .whole(fd, _, _):
            return try readFully(fd, into: buffer, at: offset)
        case let .chunked(chunks):
            return try readChunks(chunks, offset: offset, into: buffer)
        }
    }

    private func readChunks(_ chunks: [FileChunk], offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> Int {
        guard let first = Self.chunkIndex(chunks, containing: offset) else { return 0 }
        let result: Result<Int, FileSystemError> = current.withLock { open in
            var copied = 0
            var index = first
            while copied < buffer.count && index < chunks.count {
                let chunk = chunks[index]
                if open?.index != index {
                    let sequential = index == 0 || open?.index == index - 1
                    if let previous = open {
                        closeChunk(previous, chunks)
                        open = nil
                    }
                    do throws(FileSystemError) {
                        open = OpenChunk(index: index, fd: try openChunk(chunk))
                        if sequential { prefetch(chunks, after: index) }
                    } catch {
                        return .failure(error)
                    }
                }
                let position = offset + UInt64(copied)
                let inChunk = position - chunk.offset
                let wanted = min(UInt64(buffer.count - copied), chunk.size - inChunk)
                let target = UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<(copied + Int(wanted))])
                do throws(FileSystemError) {
                    let n = try readFully(open!.fd, into: target, at: inChunk)
                    guard n == Int(wanted) else { return .failure(chunkTooShort(chunk)) }
                } catch {
                    return .failure(error)
                }
                copied += Int(wanted)
                index += 1
            }
            return .success(copied)
        }
        return try result.get()
    }

    /// Most chunks one segmented read may span; more falls back to `read`.
    static let maxSegments = 8

    /// The cache-file ranges holding up to `size` bytes at `offset`, passed
    /// to `body` while their descriptors are open. A chunked file keeps the
    /// last chunk touched open for the next read (sequential reads reopen
    /// nothing); `body` gets duplicates of the descriptors and runs without
    /// the handle's lock.
    /// Returns false when the read spans more than `maxSegments` chunks.
    func withSegments(offset: UInt64, size: Int, _ body: (UnsafeBufferPointer<FileSegment>) -> Void) throws(FileSystemError) -> Bool {
        switch content {
        case .empty:
            body(UnsafeBufferPointer(start: nil, count: 0))
            return true
        case let .whole(fd, _, fileSize):
            let count = offset < fileSize ? Int(min(UInt64(size), fileSize - offset)) : 0
            var segment = FileSegment(fd: fd, offset: offset, count: count)
            withUnsafePointer(to: &segment) { body(UnsafeBufferPointer(start: $0, count: count > 0 ? 1 : 0)) }
            return true
        case let .chunked(chunks):
            return try chunkSegments(chunks, offset: offset, size: size, body)
        }
    }

    private func chunkSegments(_ chunks: [FileChunk], offset: UInt64, size: Int,
                               _ body: (UnsafeBufferPointer<FileSegment>) -> Void) throws(FileSystemError) -> Bool {
        guard let first = Self.chunkIndex(chunks, containing: offset) else {
            body(UnsafeBufferPointer(start: nil, count: 0))
            return true
        }
        let last = (Self.chunkIndex(chunks, containing: offset + UInt64(max(size, 1)) - 1) ?? chunks.count - 1)
        guard last - first < Self.maxSegments else { return false }
        return try withUnsafeTemporaryAllocation(of: FileSegment.self, capacity: Self.maxSegments) { segments throws(FileSystemError) -> Bool in
            let count = try duplicatedSegments(chunks, first: first, last: last, offset: offset, size: size, into: segments)
            defer { for item in segments[..<count] { Glibc.close(item.fd) } }
            body(UnsafeBufferPointer(rebasing: segments[..<count]))
            return true
        }
    }

    /// Fills `segments` with the ranges of chunks `first...last` holding the read,
    /// each with its own duplicate descriptor: the splice runs outside the handle's
    /// lock, so the kernel's parallel read-ahead requests of one file are copied on
    /// all cores, and a concurrent read moving the handle on cannot close them.
    private func duplicatedSegments(_ chunks: [FileChunk], first: Int, last: Int, offset: UInt64, size: Int,
                                    into segments: UnsafeMutableBufferPointer<FileSegment>) throws(FileSystemError) -> Int {
        let result: Result<Int, FileSystemError> = current.withLock { open in
            // Chunks opened for this read besides the handle's current one.
            var extra: [OpenChunk] = []
            var count = 0
            var position = offset
            let end = min(offset + UInt64(size), chunks[last].offset + chunks[last].size)
            var failure: FileSystemError?
            for index in first...last where position < end {
                let chunk = chunks[index]
                let fd: Int32
                if open?.index == index {
                    fd = open!.fd
                } else {
                    let sequential = index == 0 || open?.index == index - 1 || extra.last?.index == index - 1
                    do throws(FileSystemError) { fd = try openChunk(chunk) } catch {
                        failure = error
                        break
                    }
                    extra.append(OpenChunk(index: index, fd: fd))
                    // A sequential reader (at chunk 0, or moving on from the previous
                    // chunk) gets the next chunks fetched in the background, once its
                    // own chunk is in (so they do not compete with it for the first byte).
                    if sequential { prefetch(chunks, after: index) }
                }
                let copy = dup(fd)
                guard copy >= 0 else {
                    failure = .read(path: String(decoding: path, as: UTF8.self), errno: errno)
                    break
                }
                let inChunk = position - chunk.offset
                let wanted = min(end - position, chunk.size - inChunk)
                segments[count] = FileSegment(fd: copy, offset: inChunk, count: Int(wanted))
                count += 1
                position += wanted
            }
            if let failure {
                for item in extra { closeChunk(item, chunks) }
                for item in segments[..<count] { Glibc.close(item.fd) }
                return .failure(failure)
            }
            // Keep the last chunk touched open for the next read.
            if let newest = extra.popLast() {
                if let previous = open { closeChunk(previous, chunks) }
                open = newest
            }
            for item in extra { closeChunk(item, chunks) }
            return .success(count)
        }
        return try result.get()
    }

    private func prefetch(_ chunks: [FileChunk], after index: Int) {
        guard let readAhead else { return }
        let end = min(chunks.count, index + 1 + readAhead.depth)
        var done = prefetched.load(ordering: .relaxed)
        var start: Int
        repeat {
            start = max(done, index + 1)
            guard start < end else { return }
            let (exchanged, original) = prefetched.compareExchange(expected: done, desired: end, ordering: .relaxed)
            if exchanged { break }
            done = original
        } while true
        let jobs = chunks[start..<end].map {
            ChunkPrefetcher.Job(hash: $0.hash, compression: compression, size: $0.size, provider: provider)
        }
        readAhead.enqueue(jobs)
    }

    /// Opens and pins a chunk, refusing a cached copy shorter than the catalog says.
    private func openChunk(_ chunk: FileChunk) throws(FileSystemError) -> Int32 {
        if recorder.isRecording { recorder.noteChunk(path, offset: chunk.offset) }
        let fd = try provider.openPinned(chunk.hash, suffix: .partial, compression: compression, expectedSize: chunk.size)
        var info = stat()
        if fstat(fd, &info) != 0 || UInt64(max(info.st_size, 0)) < chunk.size {
            Glibc.close(fd)
            provider.unpin(chunk.hash)
            throw chunkTooShort(chunk)
        }
        return fd
    }

    private func chunkTooShort(_ chunk: FileChunk) -> FileSystemError {
        .inconsistent("chunk \(chunk.hash) of \(String(decoding: path, as: UTF8.self)) is shorter than its catalog size")
    }

    private func closeChunk(_ item: OpenChunk, _ chunks: [FileChunk]) {
        Glibc.close(item.fd)
        provider.unpin(chunks[item.index].hash)
    }

    /// The chunk whose range holds `offset`, by binary search.
    static func chunkIndex(_ chunks: [FileChunk], containing offset: UInt64) -> Int? {
        var low = 0
        var high = chunks.count - 1
        guard let last = chunks.last, offset < last.offset + last.size else { return nil }
        while low < high {
            let mid = (low + high + 1) / 2
            if chunks[mid].offset <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// `pread` until the buffer is full or the file ends.
    private func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(FileSystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .read(path: String(decoding: path, as: UTF8.self), errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func close() {
        switch content {
        case .empty:
            break
        case let .whole(fd, hash, _):
            Glibc.close(fd)
            provider.unpin(hash)
        case let .chunked(chunks):
            current.withLock { open in
                if let open {
                    Glibc.close(open.fd)
                    provider.unpin(chunks[open.index].hash)
                }
                open = nil
            }
        }
    }

    /// The chunk list, for `user.chunks` and `user.hash`.
    var chunkCount: Int {
        if case let .chunked(chunks) = content { return chunks.count }
        return 1
    }
}
