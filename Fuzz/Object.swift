import CVMFSFormat

/// Served objects through `ObjectDecoder`, as the cache fill and the catalog and certificate
/// downloads use it. Byte 0 picks the compression, the hash algorithm, whether the expected
/// hash is the input's own (so inflating is reached) and the piece size the bytes arrive in;
/// byte 1 the stated size and the sink's limit (a quota that refuses more). Checked: streamed
/// and whole-buffer decoding agree; the sink never gets more than it accepted, nor any call
/// after it refused; a success has exactly the stated size and re-encodes to the same bytes.
let objectHarness = Harness(
    name: "object",
    summary: "ObjectDecoder.consume/finish and decode: zlib and plain objects, sizes, limits, piecewise input"
) { bytes in
    var input = FuzzReader(bytes)
    let control = input.byte(), sizing = input.byte()
    let data = input.rest()
    let compression: Compression = control & 1 == 0 ? .zlib : .none
    let algorithm = HashAlgorithm.allCases[Int(control >> 1 & 3) % HashAlgorithm.allCases.count]
    var expected = ContentHasher.hash(data, algorithm: algorithm)
    if control & 8 != 0 {
        var digest = expected.digest
        digest[0] ^= 1
        expected = ContentHash(algorithm: algorithm, digest: digest)!
    }
    let pieceSizes = [1, 3, 64, 511, 4096, 1 << 16, Int.max]
    let pieceSize = pieceSizes[Int(control >> 4) % pieceSizes.count]
    // Stated size: none, or a value near the input's size (inflated objects are often larger).
    let statedSize: Int64? = sizing & 3 == 0 ? nil : Int64(sizing >> 2) * Int64(max(1, data.count / 16))
    let limit = sizing & 0x80 != 0 ? Int(sizing & 0x7F) * 512 : Int.max

    let whole: [UInt8]? = try? ObjectDecoder.decode(data, expected: expected, compression: compression, expectedSize: statedSize)

    var decoder = ObjectDecoder(expected: expected, compression: compression)
    var out: [UInt8] = []
    var refused = false
    var streamFailed = false
    data.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count || (offset == 0 && raw.isEmpty) {
            let end = raw.count - offset > pieceSize ? offset + pieceSize : raw.count
            do {
                try decoder.consume(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { piece in
                    FuzzCheck.require(!refused, "the decoder called the sink again after it refused")
                    if out.count + piece.count > limit {
                        refused = true
                        throw SinkRefusal()
                    }
                    out.append(contentsOf: piece)
                }
            } catch {
                streamFailed = true
            }
            if raw.isEmpty { break }
            offset = end
        }
    }
    FuzzCheck.require(refused || decoder.decodedSize == Int64(out.count), "decodedSize \(decoder.decodedSize) but the sink got \(out.count)")
    FuzzCheck.require(out.count <= limit, "the sink got more than its limit")
    let streamed = (try? decoder.finish(expectedSize: statedSize)) != nil && !streamFailed

    if limit == Int.max {
        FuzzCheck.require(streamed == (whole != nil), "streamed (\(streamed)) and whole decoding (\(whole != nil)) disagree")
    } else if streamed {
        FuzzCheck.require(whole != nil, "a limited stream succeeded where whole decoding failed")
    }
    guard let whole else { return }
    if streamed { FuzzCheck.require(out == whole, "streamed and whole decoding give different bytes") }
    if let statedSize { FuzzCheck.require(Int64(whole.count) == statedSize, "decoded \(whole.count) bytes, stated \(statedSize)") }
    if compression == .none { FuzzCheck.require(whole == data, "an uncompressed object changed in decoding") }
    if whole.count <= 1 << 20 {
        let encoded = ObjectEncoder.encode(whole, algorithm: algorithm, compression: compression)
        let again = try? ObjectDecoder.decode(encoded.stored, expected: encoded.hash, compression: compression)
        FuzzCheck.require(again == whole, "decoded bytes do not survive encode and decode")
    }
}

private struct SinkRefusal: Error {}
