import Glibc
import CVMFSFormat

/// Turns one regular file into stored objects: whole, or cut into
/// content-defined chunks when it is larger than the minimum chunk size.
struct FileIngester: Sendable {
    let store: ObjectStore
    let algorithm: HashAlgorithm
    let compression: Compression
    let chunker: ContentDefinedChunker?

    func ingest(_ entry: SourceEntry) throws(PublishError) -> FileContent {
        let fd = open(entry.sourcePath, O_RDONLY)
        guard fd >= 0 else { throw .source(path: entry.sourcePath, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .source(path: entry.sourcePath, reason: "cannot stat: \(errnoText())") }
        let size = Int(st.st_size)
        guard size == Int(entry.size) else {
            throw .source(path: entry.sourcePath, reason: "changed size while publishing (\(entry.size) → \(size))")
        }
        if size == 0 {
            return .whole(try store.store(plain: UnsafeRawBufferPointer(start: nil, count: 0), algorithm: algorithm, compression: compression, suffix: .none))
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .source(path: entry.sourcePath, reason: "cannot map: \(errnoText())")
        }
        defer { munmap(mapped, size) }
        madvise(mapped, size, MADV_SEQUENTIAL)
        let bytes = UnsafeRawBufferPointer(start: mapped, count: size)
        if let chunker, size > chunker.parameters.minimum {
            let lengths = chunker.chunkLengths(of: bytes)
            // A single chunk is stored as an ordinary file (objects-and-chunks.md §4.1).
            if lengths.count > 1 {
                var chunks = [FileChunk]()
                chunks.reserveCapacity(lengths.count)
                var offset = 0
                for length in lengths {
                    let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
                    let hash = try store.store(plain: piece, algorithm: algorithm, compression: compression, suffix: .partial)
                    chunks.append(FileChunk(offset: UInt64(offset), size: UInt64(length), hash: hash))
                    offset += length
                }
                return .chunked(chunks)
            }
        }
        return .whole(try store.store(plain: bytes, algorithm: algorithm, compression: compression, suffix: .none))
    }
}
