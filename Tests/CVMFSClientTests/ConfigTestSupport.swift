import Foundation
@testable import CVMFSClient

/// A throw-away configuration directory.
final class TemporaryConfigDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/cvmfs-config-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }
}

/// The package root (for the shipped `mountconfig/`).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A clean environment so that the caller's CVMFS_* variables do not leak into tests.
let testEnvironment: [String: String] = ["PATH": "/usr/bin:/bin"]
