import Foundation
import Glibc
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// Open files (`OpenFile`) of a published repository, through the file
/// system's open/read/release: chunk boundaries, the end of file, the
/// zero-copy segments, and objects that fail verification.
@Suite("OpenFile on a published repository")
struct OpenFileTests {
    typealias Sample = PublishedMount.Sample

    @Test("reads that span one, two or three chunks give the source bytes, in any order")
    func readsAcrossChunkBoundaries() throws {
        let mount = try PublishedMount.sample("open-chunks")
        defer { mount.close() }
        let fs = mount.fileSystem
        let chunks = try mount.catalogChunks("/big.bin")
        try #require(chunks.count >= 3)
        let opened = try fs.open(try fs.lookup(path: "big.bin").inode)
        defer { fs.release(opened.handle) }
        func expectRead(_ offset: UInt64, _ count: Int, _ label: String) throws {
            let want = Array(Sample.big[Int(offset)..<min(Sample.big.count, Int(offset) + count)])
            #expect(try fs.read(opened.handle, offset: offset, count: count) == want, "\(label): \(count) bytes at \(offset)")
        }
        // Every boundary, from a little before to a little after.
        for chunk in chunks.dropFirst() {
            try expectRead(chunk.offset - 5000, 10_000, "boundary")
            try expectRead(chunk.offset - 1, 2, "the last byte of one chunk and the first of the next")
        }
        // From the middle of the first chunk to the middle of the third.
        let start = chunks[0].size / 2
        let count = Int(chunks[0].size - start + chunks[1].size + chunks[2].size / 2)
        try expectRead(start, count, "three chunks")
        // Backwards and jumping: each read opens the chunk it needs.
        for index in [chunks.count - 1, 0, chunks.count / 2, 1, chunks.count - 1] {
            try expectRead(chunks[index].offset + 17, 4096, "chunk \(index)")
        }
        // The whole file in one request.
        #expect(try fs.read(opened.handle, offset: 0, count: Sample.big.count + 1) == Sample.big)
    }

    @Test("two handles of one chunked file read independently")
    func independentHandles() throws {
        let mount = try PublishedMount.sample("open-handles")
        defer { mount.close() }
        let fs = mount.fileSystem
        let inode = try fs.lookup(path: "big.bin").inode
        let first = try fs.open(inode), second = try fs.open(inode)
        #expect(first.handle != second.handle)
        let piece = 64 << 10
        var a: [UInt8] = [], b: [UInt8] = []
        // One reads from the start, the other from the middle, interleaved.
        let middle = Sample.big.count / 2
        while a.count < middle {
            a += try fs.read(first.handle, offset: UInt64(a.count), count: piece)
            b += try fs.read(second.handle, offset: UInt64(middle + b.count), count: piece)
        }
        #expect(a == Array(Sample.big[..<a.count]))
        #expect(b == Array(Sample.big[middle..<(middle + b.count)]))
        fs.release(first.handle)
        // The other handle keeps working after the first is released.
        #expect(try fs.read(second.handle, offset: 0, count: 10) == Array(Sample.big[..<10]))
        fs.release(second.handle)
        #expect(fileSystemError { try fs.read(second.handle, offset: 0, count: 10) } == .staleHandle)
    }

    @Test("a read at or past the end returns no bytes; one that runs over the end is short")
    func readsPastTheEnd() throws {
        let mount = try PublishedMount.sample("open-eof")
        defer { mount.close() }
        let fs = mount.fileSystem
        for path in ["big.bin", "top.txt", "empty"] {
            let content = try #require(Sample.files[path])
            let opened = try fs.open(try fs.lookup(path: path).inode)
            defer { fs.release(opened.handle) }
            let size = UInt64(content.count)
            #expect(try fs.read(opened.handle, offset: size, count: 100).isEmpty, "/\(path) at its end")
            #expect(try fs.read(opened.handle, offset: size + 1, count: 100).isEmpty, "/\(path) one past its end")
            #expect(try fs.read(opened.handle, offset: size + (64 << 20), count: 100).isEmpty, "/\(path) far past its end")
            #expect(try fs.read(opened.handle, offset: 0, count: 0).isEmpty, "/\(path): a read of no bytes")
            if size > 10 {
                #expect(try fs.read(opened.handle, offset: size - 10, count: 100) == Array(content.suffix(10)), "/\(path) over its end")
            }
        }
    }

    @Test("zero-copy segments of a read cover exactly the requested bytes, across chunks and at the end")
    func segments() throws {
        let mount = try PublishedMount.sample("open-segments")
        defer { mount.close() }
        let fs = mount.fileSystem
        let chunks = try mount.catalogChunks("/big.bin")
        func segmentBytes(_ handle: UInt64, offset: UInt64, size: Int) throws -> (used: Bool, count: Int, bytes: [UInt8]) {
            var bytes: [UInt8] = []
            var count = 0
            var failed = false
            let used = try fs.withSegments(handle, offset: offset, size: size) { segments in
                count = segments.count
                for segment in segments {
                    var buffer = [UInt8](repeating: 0, count: segment.count)
                    let n = buffer.withUnsafeMutableBytes { pread(segment.fd, $0.baseAddress, segment.count, off_t(segment.offset)) }
                    if n != segment.count { failed = true }
                    bytes += buffer.prefix(max(n, 0))
                }
            }
            #expect(!failed, "every segment is readable for its whole length")
            return (used, count, bytes)
        }
        let big = try fs.open(try fs.lookup(path: "big.bin").inode)
        defer { fs.release(big.handle) }
        let boundary = chunks[1].offset
        let across = try segmentBytes(big.handle, offset: boundary - 100, size: 300)
        #expect(across.used && across.count == 2)
        #expect(across.bytes == Array(Sample.big[Int(boundary - 100)..<Int(boundary + 200)]))
        let inside = try segmentBytes(big.handle, offset: chunks[2].offset + 10, size: 100)
        #expect(inside.used && inside.count == 1)
        #expect(inside.bytes == Array(Sample.big[Int(chunks[2].offset + 10)..<Int(chunks[2].offset + 110)]))
        let end = try segmentBytes(big.handle, offset: UInt64(Sample.big.count - 50), size: 4096)
        #expect(end.bytes == Array(Sample.big.suffix(50)))
        let past = try segmentBytes(big.handle, offset: UInt64(Sample.big.count), size: 4096)
        #expect(past.used && past.count == 0)

        let top = try fs.open(try fs.lookup(path: "top.txt").inode)
        defer { fs.release(top.handle) }
        let whole = try segmentBytes(top.handle, offset: 6, size: 4096)
        #expect(whole.used && whole.count == 1 && whole.bytes == Array(Sample.top[6...]))
        #expect(try segmentBytes(top.handle, offset: UInt64(Sample.top.count), size: 10).count == 0)
    }

    @Test("a read over more chunks than one segmented reply holds is refused as segments and served by read")
    func manySmallChunks() throws {
        let mount = try PublishedMount(label: "open-small-chunks",
                                       configure: { $0.chunking = ChunkingParameters(minimum: 64 << 10, average: 128 << 10, maximum: 256 << 10) },
                                       tree: { try SourceTreeWriter.write(Sample.big, to: $0 + "/big.bin") })
        defer { mount.close() }
        let fs = mount.fileSystem
        let chunks = try mount.catalogChunks("/big.bin")
        try #require(chunks.count > OpenFile.maxSegments + 1)
        let opened = try fs.open(try fs.lookup(path: "big.bin").inode)
        defer { fs.release(opened.handle) }
        var called = false
        let span = Int(chunks[OpenFile.maxSegments].offset + 1)
        #expect(try fs.withSegments(opened.handle, offset: 0, size: span) { _ in called = true } == false)
        #expect(!called, "the body is not called when segments are refused")
        #expect(try fs.withSegments(opened.handle, offset: 0, size: Int(chunks[OpenFile.maxSegments - 1].offset + 1)) { segments in
            called = segments.count == OpenFile.maxSegments
        })
        #expect(called, "exactly \(OpenFile.maxSegments) chunks fit")
        #expect(try fs.read(opened.handle, offset: 0, count: Sample.big.count) == Sample.big)
    }

    @Test("an object that fails verification is an object error for its file only; other files read fine")
    func corruptObject() throws {
        let mount = try PublishedMount.sample("open-corrupt")
        defer { mount.close() }
        let fs = mount.fileSystem
        // Damage the served objects of /top.txt and of one chunk of /big.bin before anything reads them.
        let topHash = try #require(try mount.catalogEntry("/top.txt").contentHash)
        let intact = try Data(contentsOf: URL(fileURLWithPath: mount.servedObject(topHash)))
        try flipByte(mount.servedObject(topHash))
        let chunks = try mount.catalogChunks("/big.bin")
        let damaged = chunks[2]
        try flipByte(mount.servedObject(damaged.hash, suffix: .partial))

        let top = try fs.lookup(path: "top.txt")
        switch fileSystemError({ try fs.contents(of: top.inode) }) {
        case .object(let path, _)?:
            #expect(path == topHash.objectPath(suffix: .none), "the error names the damaged object")
        case let other:
            Issue.record("reading /top.txt: expected an object error, got \(String(describing: other))")
        }
        // Asking again fails again (nothing bad was cached).
        #expect(fileSystemError({ try fs.contents(of: top.inode) }).map { if case .object = $0 { true } else { false } } == true)
        #expect(try fs.xattr(top.inode, "user.lhash") == "Not in cache")

        // The chunked file: its good chunks read, the damaged one fails.
        let big = try fs.open(try fs.lookup(path: "big.bin").inode)
        defer { fs.release(big.handle) }
        #expect(try fs.read(big.handle, offset: chunks[1].offset, count: 1000) == Array(Sample.big[Int(chunks[1].offset)..<Int(chunks[1].offset) + 1000]))
        switch fileSystemError({ try fs.read(big.handle, offset: damaged.offset, count: 1000) }) {
        case .object(let path, _)?:
            #expect(path == damaged.hash.objectPath(suffix: .partial))
        case let other:
            Issue.record("reading the damaged chunk: expected an object error, got \(String(describing: other))")
        }
        let last = chunks[chunks.count - 1]
        #expect(try fs.read(big.handle, offset: last.offset, count: 1000) == Array(Sample.big[Int(last.offset)..<Int(last.offset) + 1000]))

        // Every other file reads fine, and the failures were counted as I/O errors.
        for (path, content) in Sample.files where path != "top.txt" && path != "big.bin" {
            #expect(try fs.contents(of: try fs.lookup(path: path).inode) == content, "/\(path)")
        }
        #expect(mount.session.ioErrorCount == 3)
        #expect(try fs.xattr(RepositoryFileSystem.root, "user.nioerr") == "3")

        // Once the server has the intact object again, the file reads.
        try intact.write(to: URL(fileURLWithPath: mount.servedObject(topHash)))
        #expect(try fs.contents(of: top.inode) == Sample.top)
    }

    private func flipByte(_ path: String) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
