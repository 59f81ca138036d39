import Testing
@testable import CVMFSFormat

@Suite("Content hashes and object names")
struct ContentHashTests {
    @Test("each algorithm hashes the upstream test vectors", arguments: [
        (HashAlgorithm.sha1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (.sha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (.rmd160, "", "9c1185a5c5e9fc54612808977ee8f548b2258d31-rmd160"),
        (.rmd160, "abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc-rmd160"),
        (.shake128, "", "7f9c2ba4e88f827d616045507605853ed73b8093-shake128"),
        (.shake128, "abc", "5881092dd818bf5cf8a3ddb793fbcba74097d5c5-shake128"),
    ])
    func vectors(algorithm: HashAlgorithm, input: String, printable: String) {
        let hash = ContentHasher.hash(Array(input.utf8), algorithm: algorithm)
        #expect(hash.description == printable)
        #expect(ContentHash(printable: printable) == hash)
    }

    @Test("object paths put the algorithm id before the suffix letter")
    func objectPaths() throws {
        let sha = try #require(ContentHash(printable: "e8ec3d88b62ebf526e4e5a4ff6162a3aa48a6b78"))
        #expect(sha.objectPath(suffix: .none) == "data/e8/ec3d88b62ebf526e4e5a4ff6162a3aa48a6b78")
        #expect(sha.objectPath(suffix: .catalog) == "data/e8/ec3d88b62ebf526e4e5a4ff6162a3aa48a6b78C")
        let rmd = try #require(ContentHash(printable: "9c1185a5c5e9fc54612808977ee8f548b2258d31-rmd160"))
        #expect(rmd.objectPath(suffix: .catalog) == "data/9c/1185a5c5e9fc54612808977ee8f548b2258d31-rmd160C")
        #expect(rmd.cachePath == "9c/1185a5c5e9fc54612808977ee8f548b2258d31-rmd160")
        #expect(ContentHash(suffixed: "9c1185a5c5e9fc54612808977ee8f548b2258d31-rmd160C") == rmd)
    }

    @Test("malformed printable hashes are refused")
    func malformed() {
        #expect(ContentHash(printable: "") == nil)
        #expect(ContentHash(printable: "zz1185a5c5e9fc54612808977ee8f548b2258d31") == nil)
        #expect(ContentHash(printable: "9c1185a5c5e9fc54612808977ee8f548b2258d31-md5") == nil)
    }

    @Test("path hashes split MD5 little-endian into signed integers", arguments: [
        ("", Int64(338333539836370388), Int64(bitPattern: 9098107892288553193)),
        ("/a", -2906336618250618618, -744252105585281751),
        ("/.cvmfs", -2402492567927477437, -171651727507129842),
    ])
    func pathHash(path: String, high: Int64, low: Int64) {
        let hash = PathHash(path: path)
        #expect(hash.high == high)
        #expect(hash.low == low)
    }

    @Test("the root path's MD5 prints as the manifest's R value")
    func rootHex() {
        #expect(PathHash(path: "").hex == "d41d8cd98f00b204e9800998ecf8427e")
    }
}
