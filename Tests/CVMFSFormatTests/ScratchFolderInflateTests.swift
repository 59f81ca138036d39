import Foundation
import Testing
import CVMFSTestSupport
@testable import CVMFSFormat

@Suite("ScratchFolder.inflate of a stored object")
struct ScratchFolderInflateTests {
    @Test("A stored file inflates to its bytes; a corrupt one is refused by its own path and leaves no file")
    func storedFile() throws {
        let folder = try ProcessSupport.makeTemporaryDirectory("scratch-inflate")
        defer { ProcessSupport.remove(folder) }
        let plain = Array("a catalog, say\n".utf8)
        let (stored, hash) = ObjectEncoder.encode(plain, algorithm: .sha1, compression: .zlib)
        let good = folder + "/good"
        try Data(stored).write(to: URL(fileURLWithPath: good))
        let scratch = try ScratchFolder(parent: folder)
        let file = try scratch.inflate(hash, storedAt: good, as: "plain")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data(plain))

        var corrupt = stored
        corrupt[corrupt.count - 1] ^= 0xff
        let bad = folder + "/bad"
        try Data(corrupt).write(to: URL(fileURLWithPath: bad))
        do {
            _ = try scratch.inflate(hash, storedAt: bad, as: "refused")
            Issue.record("a corrupt stored object inflated")
        } catch {
            guard case .object(let path, _) = error else { Issue.record("unexpected error \(error)"); return }
            #expect(path == bad)
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/refused"))
    }
}
