import CVMFSImages

/// Image layers through `TarReader` (ustar, old GNU, GNU long names `L`/`K`, PAX `x`/`g`,
/// base-256 numbers, unsupported types such as sparse `S`), read from memory through a
/// stream that hands out the given piece sizes; byte 0 picks the piece size and whether the
/// bytes are a gzip layer (`GzipStream`, as `LayerDecompression.tarStream` does for `1f 8b`).
/// Every entry's data is read to the end; the reader never hands out more data than the
/// entry's size.
let tarHarness = Harness(
    name: "tar",
    summary: "TarReader.next/readData over memory, optionally through GzipStream"
) { bytes in
    guard let control = bytes.first else { return }
    let data = Array(bytes.dropFirst())
    let pieces = [512, 1, 100, 4096, 1 << 20]
    let memory = MemoryStream(data, piece: pieces[Int(control & 7) % pieces.count])
    let source: ByteStream
    if control & 8 != 0 || (data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B) {
        guard let gzip = try? GzipStream(source: memory) else { return }
        source = gzip
    } else {
        source = memory
    }
    let reader = TarReader(source: source, name: "fuzz.tar")
    var entries = 0
    do throws(ImageError) {
        while let entry = try reader.next(), entries < 10_000 {
            entries += 1
            FuzzCheck.require(entry.size >= 0, "negative entry size")
            _ = (entry.path, entry.linkTarget, entry.mode, entry.kind, entry.xattrs.count, entry.mtimeNanoseconds)
            var read: Int64 = 0
            if control & 0x10 == 0 {  // else the next call skips the data
                try reader.readData { (piece: UnsafeRawBufferPointer) throws(ImageError) in read += Int64(piece.count) }
                FuzzCheck.require(read == (entry.kind == .regular ? entry.size : 0), "read \(read) bytes of a \(entry.size)-byte entry")
            }
        }
    } catch {
        _ = error.description
    }
}

/// Bytes from memory, at most `piece` per read.
final class MemoryStream: ByteStream {
    private let bytes: [UInt8]
    private let piece: Int
    private var offset = 0

    init(_ bytes: [UInt8], piece: Int) {
        self.bytes = bytes
        self.piece = piece
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        let n = min(buffer.count, piece, bytes.count - offset)
        if n <= 0 { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}
