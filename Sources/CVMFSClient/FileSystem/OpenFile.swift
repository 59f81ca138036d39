import Glibc
import Synchronization
import CVMFSFormat

/// An open regular file. A whole-object file is downloaded at open and read
/// with `pread`; a chunked file fetches each chunk when a read first touches
/// it (objects-and-chunks.md §4.2).
final class OpenFile: Sendable {
    private let record: InodeRecord
    private let provider: any ObjectProvider
    private let content: Content
    /// The chunk a chunked file's handle has open; reads of one handle are serialized by it.
    private let current = Mutex<OpenChunk?>(nil)

    private enum Content: Sendable {
        case whole(fd: Int32, hash: ContentHash)
        case chunked([FileChunk])
        case empty
    }

    private struct OpenChunk {
        var index: Int
        var fd: Int32
    }

    init(record: InodeRecord, provider: any ObjectProvider) throws(FileSystemError) {
        self.record = record
        self.provider = provider
        let entry = record.entry
        let pathText = String(decoding: record.path, as: UTF8.self)
        if entry.isChunked {
            let chunks: [FileChunk]
            do {
                chunks = try record.catalog.catalog.chunks(of: entry)
            } catch {
                throw .io("chunk list of \(pathText): \(error)")
            }
            guard !chunks.isEmpty else { throw .io("chunked file \(pathText) has no chunks") }
            content = .chunked(chunks)
        } else if let hash = entry.contentHash {
            let fd = try provider.openPinned(hash, suffix: .none, compression: entry.compression, expectedSize: entry.size)
            content = .whole(fd: fd, hash: hash)
        } else if entry.size == 0 {
            content = .empty
        } else {
            throw .io("\(pathText) has no content hash")
        }
    }

    func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> Int {
        switch content {
        case .empty:
            return 0
        case let .whole(fd, _):
            return try Self.readFully(fd, into: buffer, at: offset)
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
                    if let previous = open {
                        Glibc.close(previous.fd)
                        provider.unpin(chunks[previous.index].hash)
                        open = nil
                    }
                    do throws(FileSystemError) {
                        let fd = try provider.openPinned(chunk.hash, suffix: .partial, compression: record.entry.compression, expectedSize: chunk.size)
                        open = OpenChunk(index: index, fd: fd)
                    } catch {
                        return .failure(error)
                    }
                }
                let position = offset + UInt64(copied)
                let inChunk = position - chunk.offset
                let wanted = min(UInt64(buffer.count - copied), chunk.size - inChunk)
                let target = UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<(copied + Int(wanted))])
                do throws(FileSystemError) {
                    let n = try Self.readFully(open!.fd, into: target, at: inChunk)
                    guard n == Int(wanted) else {
                        return .failure(.io("chunk \(chunk.hash) of \(String(decoding: record.path, as: UTF8.self)) is shorter than its catalog size"))
                    }
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
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(FileSystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("reading the cached object: \(String(cString: strerror(errno)))")
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
        case let .whole(fd, hash):
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
