import CVMFSFormat
@testable import CVMFSClient
import Foundation
import Testing

@Suite("fsck of a cache directory")
struct CacheCheckTests {
    @Test("deflated and plain objects pass; a flipped byte is reported, and with repair moved to quarantaine")
    func flippedByte() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fsck-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var names: [String] = []
        for (index, (algorithm, compression)) in [(HashAlgorithm.sha1, Compression.zlib), (.rmd160, .zlib), (.shake128, .none)].enumerated() {
            let plain = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 * (index + 3) / 7) }
            let hash = ObjectEncoder.encode(plain, algorithm: algorithm, compression: compression).hash
            try FileManager.default.createDirectory(atPath: root + "/" + hash.hex.prefix(2), withIntermediateDirectories: true)
            try Data(plain).write(to: URL(fileURLWithPath: root + "/" + hash.cachePath))
            names.append(hash.cachePath)
        }
        try Data("not an object".utf8).write(to: URL(fileURLWithPath: root + "/cachedb"))
        let good = try CacheCheck.run(directory: root, repair: true)
        #expect(good.checked == 3 && good.corrupt.isEmpty && good.unreadable.isEmpty && good.checkedBytes == 150_000)

        let victim = root + "/" + names[1]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[1234] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: victim))
        let found = try CacheCheck.run(directory: root, repair: false)
        #expect(found.corrupt == [names[1]] && found.quarantined.isEmpty)
        #expect(FileManager.default.fileExists(atPath: victim))
        let repaired = try CacheCheck.run(directory: root, repair: true)
        #expect(repaired.quarantined == [names[1]])
        #expect(!FileManager.default.fileExists(atPath: victim))
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: root + "/quarantaine")
        #expect(quarantined.count == 1 && names[1].replacingOccurrences(of: "/", with: "") == quarantined[0])
        #expect(try CacheCheck.run(directory: root, repair: true).checked == 2)
        #expect(throws: DirectoryListingError.self) { try CacheCheck.run(directory: root + "/missing", repair: true) }
    }
}
