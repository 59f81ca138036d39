import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running `integration/fault_server.py`, killed by pid in `stop()` (call it from a `defer`).
public final class FaultServer {
    let process: Process
    public let port: Int
    /// The server's request log (`--log`); read from the file because Foundation on Linux
    /// cannot fetch http URLs without FoundationNetworking.
    public let logFile: URL
    public var url: String { "http://127.0.0.1:\(port)" }

    public init(root: URL, arguments: [String] = []) throws {
        let script = URL(fileURLWithPath: Fixtures.packageRoot + "/integration/fault_server.py")
        logFile = root.appendingPathComponent("../\(UUID().uuidString).log").standardizedFileURL
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--root", root.path, "--port", "0", "--log", logFile.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = out.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            kill(process.processIdentifier, SIGKILL)
            throw FaultServerError.noPort(text)
        }
        self.port = port
    }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: logFile)
    }

    /// The request log lines.
    public func log() throws -> [String] {
        let data = (try? Data(contentsOf: logFile)) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

public enum FaultServerError: Error {
    case noPort(String)
}
