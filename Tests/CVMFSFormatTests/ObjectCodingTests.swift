import Testing
@testable import CVMFSFormat

@Suite("Object encoding and decoding")
struct ObjectCodingTests {
    @Test("the empty file encodes to upstream's well-known objects", arguments: [
        (HashAlgorithm.sha1, Compression.zlib, "e8ec3d88b62ebf526e4e5a4ff6162a3aa48a6b78"),
        (.sha1, .none, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (.rmd160, .zlib, "fcdb20b894f31f1306d56294c049ca7293dde0fc-rmd160"),
        (.shake128, .zlib, "28d94b83b7229b331fc601362b8e272e02665122-shake128"),
    ])
    func emptyObject(algorithm: HashAlgorithm, compression: Compression, printable: String) throws {
        let (stored, hash) = ObjectEncoder.encode([], algorithm: algorithm, compression: compression)
        #expect(hash.description == printable)
        #expect(try ObjectDecoder.decode(stored, expected: hash, compression: compression, expectedSize: 0) == [])
    }

    @Test("a large object round-trips through deflate and inflate")
    func roundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        let plain = (0..<3_000_000).map { i in i % 7 == 0 ? UInt8.random(in: 0...255, using: &rng) : UInt8(i % 251) }
        let (stored, hash) = ObjectEncoder.encode(plain, algorithm: .sha1, compression: .zlib)
        #expect(stored.count < plain.count)
        #expect(try ObjectDecoder.decode(stored, expected: hash, compression: .zlib, expectedSize: Int64(plain.count)) == plain)
    }

    @Test("a flipped byte is refused as a hash mismatch naming the object")
    func flippedByte() {
        let (stored, hash) = ObjectEncoder.encode(Array("hello\n".utf8), algorithm: .sha1, compression: .zlib)
        var bad = stored
        bad[5] ^= 0x40
        #expect(throws: ObjectError.self) { try ObjectDecoder.decode(bad, expected: hash, compression: .zlib) }
        do {
            _ = try ObjectDecoder.decode(bad, expected: hash, compression: .zlib)
        } catch {
            guard case .hashMismatch(let expected, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(expected == hash)
            #expect("\(error)".contains(hash.description))
        }
    }

    @Test("a truncated zlib stream is refused even when the hash matches the truncated bytes")
    func truncated() {
        let plain = Array(repeating: UInt8(ascii: "x"), count: 100_000) + Array("tail".utf8)
        let (stored, _) = ObjectEncoder.encode(plain, algorithm: .sha1, compression: .zlib)
        let cut = Array(stored.dropLast(6))
        let cutHash = ContentHasher.hash(cut, algorithm: .sha1)
        #expect(throws: ObjectError.truncatedStream(object: cutHash)) {
            try ObjectDecoder.decode(cut, expected: cutHash, compression: .zlib)
        }
    }

    @Test("the inflated size must match the catalog's size")
    func sizeMismatch() {
        let (stored, hash) = ObjectEncoder.encode(Array("hello\n".utf8), algorithm: .sha1, compression: .zlib)
        #expect(throws: ObjectError.sizeMismatch(object: hash, expected: 7, actual: 6)) {
            try ObjectDecoder.decode(stored, expected: hash, compression: .zlib, expectedSize: 7)
        }
    }

    @Test("bytes after the end of the zlib stream are refused as they arrive, not at finish")
    func trailingDataRefusedAtOnce() {
        let (stored, hash) = ObjectEncoder.encode(Array(repeating: UInt8(ascii: "a"), count: 5_000), algorithm: .sha1, compression: .zlib)
        var decoder = ObjectDecoder(expected: hash, compression: .zlib)
        stored.withUnsafeBytes { raw in
            #expect(throws: Never.self) { try decoder.consume(raw) { _ in } }
        }
        let garbage = [UInt8](repeating: 0x55, count: 64 * 1024)
        garbage.withUnsafeBytes { raw in
            #expect(throws: ObjectError.trailingData(object: hash)) { try decoder.consume(raw) { _ in } }
            // The refusal sticks: later pieces are not hashed or inflated either.
            #expect(throws: ObjectError.trailingData(object: hash)) { try decoder.consume(raw) { _ in } }
        }
    }

    @Test("decoded bytes beyond the size limit never reach the sink", arguments: [Compression.zlib, .none])
    func sizeLimit(compression: Compression) {
        let plain = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (stored, hash) = ObjectEncoder.encode(plain, algorithm: .sha1, compression: compression)
        var decoder = ObjectDecoder(expected: hash, compression: compression, sizeLimit: 4_000)
        var delivered = 0
        var refusal: ObjectError?
        stored.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count && refusal == nil {
                let n = min(1_000, raw.count - offset)
                do throws(ObjectError) {
                    try decoder.consume(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n])) { delivered += $0.count }
                } catch {
                    refusal = error
                }
                offset += n
            }
        }
        guard case .longerThanExpected(let object, let expected, let atLeast) = refusal else {
            Issue.record("wanted longerThanExpected, got \(String(describing: refusal))")
            return
        }
        #expect(object == hash && expected == 4_000 && atLeast > 4_000)
        #expect(delivered <= 4_000)
        #expect("\(refusal!)".contains("4000"))
    }
}
