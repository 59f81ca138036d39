import Foundation
import Testing

/// Runs helper programs (python3, openssl) the way a user would, and
/// scratch folders that the caller removes in a `defer`.
public enum ProcessSupport {
    public struct Output {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// A fresh, empty folder under the system's temporary folder.
    public static func makeTemporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cvmfs-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `executable` (looked up in PATH via /usr/bin/env) with `arguments`;
    /// output goes through files so large listings cannot block on a full pipe.
    public static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil) throws -> Output {
        let scratch = try makeTemporaryDirectory("process")
        defer { remove(scratch) }
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr", inPath = scratch + "/stdin"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: stdin ?? Data())
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        try input.close()
        return Output(
            status: process.terminationStatus,
            stdout: try Data(contentsOf: URL(fileURLWithPath: outPath)),
            stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self))
    }

    /// `tools/tree-listing.py` over `directory`, failing the test if it fails.
    public static func treeListing(_ directory: String, expand: [String] = []) throws -> String {
        let result = try run("python3", [Fixtures.treeListingScript] + expand.flatMap { ["--expand", $0] } + [directory])
        #expect(result.status == 0, "tree-listing.py \(directory) failed: \(result.stderr)")
        return result.text
    }

    /// SHA-256 of `bytes` as lowercase hex, computed by `openssl dgst`.
    public static func sha256(_ bytes: [UInt8]) throws -> String {
        let result = try run("openssl", ["dgst", "-sha256", "-r"], stdin: Data(bytes))
        #expect(result.status == 0, "openssl dgst failed: \(result.stderr)")
        return String(result.text.prefix { $0 != " " })
    }
}
