import Glibc
import CVMFSFormat

/// Turns regular files into stored objects in two passes, so that the chunks
/// of one large file are compressed on all cores like separate small files:
/// `plan` cuts a file into pieces (the whole file, or content-defined chunks
/// when it is larger than the minimum chunk size), `store` encodes one piece.
struct FileIngester: Sendable {
    let store: ObjectStore
    let algorithm: HashAlgorithm
    let compression: Compression
    let chunker: ContentDefinedChunker?

    /// One object to write: a byte range of a source file.
    struct Piece: Sendable {
        var file: Int
        var offset: Int
        var length: Int
        var suffix: ObjectSuffix
    }

    /// The pieces of `entry` (tree index `file`). A file that would be one
    /// chunk is stored whole (docs/format/objects-and-chunks.md §4.1).
    func plan(_ entry: SourceEntry, file: Int) throws(PublishError) -> [Piece] {
        let whole = [Piece(file: file, offset: 0, length: Int(entry.size), suffix: .none)]
        guard let chunker, entry.size > Int64(chunker.parameters.minimum) else { return whole }
        let lengths = try withMappedFile(entry) { bytes in chunker.chunkLengths(of: bytes) }
        guard lengths.count > 1 else { return whole }
        var pieces = [Piece]()
        pieces.reserveCapacity(lengths.count)
        var offset = 0
        for length in lengths {
            pieces.append(Piece(file: file, offset: offset, length: length, suffix: .partial))
            offset += length
        }
        return pieces
    }

    /// Encodes and stores one piece; returns its object name.
    func store(_ piece: Piece, of entry: SourceEntry) throws(PublishError) -> ContentHash {
        try withMappedFile(entry) { (bytes: UnsafeRawBufferPointer) throws(PublishError) -> ContentHash in
            let range = UnsafeRawBufferPointer(rebasing: bytes[piece.offset..<(piece.offset + piece.length)])
            return try store.store(plain: range, algorithm: algorithm, compression: compression, suffix: piece.suffix)
        }
    }

    /// The file's content from its pieces and their object names.
    static func content(of pieces: [Piece], hashes: [ContentHash]) -> FileContent {
        if pieces.count == 1, pieces[0].suffix == .none { return .whole(hashes[0]) }
        return .chunked(zip(pieces, hashes).map { FileChunk(offset: UInt64($0.offset), size: UInt64($0.length), hash: $1) })
    }

    /// Maps the file read-only for `body`; an empty file is an empty buffer.
    private func withMappedFile<R>(_ entry: SourceEntry, _ body: (UnsafeRawBufferPointer) throws(PublishError) -> R) throws(PublishError) -> R {
        let fd = open(entry.sourcePath, O_RDONLY)
        guard fd >= 0 else { throw .source(path: entry.sourcePath, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .source(path: entry.sourcePath, reason: "cannot stat: \(errnoText())") }
        let size = Int(st.st_size)
        guard size == Int(entry.size) else {
            throw .source(path: entry.sourcePath, reason: "changed size while publishing (\(entry.size) → \(size))")
        }
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .source(path: entry.sourcePath, reason: "cannot map: \(errnoText())")
        }
        defer { munmap(mapped, size) }
        return try body(UnsafeRawBufferPointer(start: mapped, count: size))
    }
}
