import Foundation
import Testing
import CVMFSTestSupport
import CVMFSFormat
@testable import CVMFSPublish

/// The `cvmfs-swift` executable, run as a user runs it.
@Suite("cvmfs-swift verify and publish on the command line")
struct CommandLineTests {
    /// Built next to the test bundle by `swift build --build-tests` / `swift test`.
    static func executable() throws -> String {
        let candidates = [
            (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/cvmfs-swift",
            Fixtures.packageRoot + "/.build/debug/cvmfs-swift",
        ]
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, "cvmfs-swift not built: looked in \(candidates)")
    }

    @Test("verify exits 0 on a good repository and 1 naming the path of a corrupt object")
    func verify() throws {
        let repository = try PublishedRepository.make(label: "cli-verify")
        defer { repository.remove() }
        let tool = try Self.executable()
        let arguments = ["verify", repository.output, "--key", repository.keyDirectory + "/\(PublishedRepository.fqrn).pub"]

        let good = try ProcessSupport.run(tool, arguments)
        #expect(good.status == 0, "stderr: \(good.stderr)")
        #expect(!good.stderr.contains("problem"))

        let hash = try #require(try repository.reader().lookup("/dir/b.txt").entry.contentHash)
        try repository.flipByte(hash.objectPath(suffix: .none), at: 10)
        let bad = try ProcessSupport.run(tool, arguments)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("/dir/b.txt"), "stderr: \(bad.stderr)")
        #expect(bad.stderr.contains(hash.description), "stderr: \(bad.stderr)")
    }

    @Test("publish rejects a too small --chunk-min before touching anything")
    func publishRejectsChunkMin() throws {
        let scratch = try ProcessSupport.makeTemporaryDirectory("cli-publish")
        defer { ProcessSupport.remove(scratch) }
        try FileManager.default.createDirectory(atPath: scratch + "/source", withIntermediateDirectories: true)
        let result = try ProcessSupport.run(try Self.executable(), [
            "publish", scratch + "/source", scratch + "/repo", "--name", PublishedRepository.fqrn, "--keys", scratch + "/keys",
            "--chunk-min", "10",
        ])
        #expect(result.status == 64)  // EX_USAGE: a parse-time refusal
        #expect(result.stderr.contains("--chunk-min"), "stderr: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch + "/repo"))
        #expect(!FileManager.default.fileExists(atPath: scratch + "/keys"))
    }
}
