import CLinux
import CVMFSClient
@testable import CVMFSFuse
import CVMFSPublish
import CVMFSTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The lookup-count contract of readdirplus (FileSystemCore.readDirectory),
/// checked on the real client: a published repository served over HTTP,
/// mounted through `MountSession`, not the FUSE tests' in-memory core.
@Suite("FuseMount serving a published repository", .serialized)
struct RepositoryReaddirPlusTests {
    static let fqrn = "readdirplus.cvmfs.local"
    static let fileCount = 600

    static func name(_ index: Int) -> String { "entry-with-a-name-long-enough-to-fill-buffers-\(index).txt" }

    /// A readdirplus reply buffer ends with an entry that did not fit, whose
    /// count the core added and the adapter takes back. Were it taken back
    /// twice, an entry the kernel already held would be freed in the core
    /// while the kernel still holds it: when the listing is not read on
    /// (`ls | head`, a search that stops at its match), every request on that
    /// inode fails with ESTALE. Path lookups hide it (the kernel retries them
    /// with a fresh LOOKUP); requests on an open descriptor do not.
    @Test("files held open across a listing stay usable, whether the listing is read to its end or stopped early")
    func entriesStayValidAcrossReaddirPlusBuffers() throws {
        let scratch = try ProcessSupport.makeTemporaryDirectory("readdirplus")
        defer { ProcessSupport.remove(scratch) }
        let source = scratch + "/source", repository = scratch + "/repo", keys = scratch + "/keys"
        try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
        for index in 0..<Self.fileCount {
            try Data("content \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/dir/" + Self.name(index)))
        }
        _ = try Publisher(options: PublishOptions(fqrn: Self.fqrn, keyDirectory: keys)).publish(source: source, output: repository)

        let server = try FaultServer(root: URL(fileURLWithPath: repository))
        defer { server.stop() }
        let configFile = scratch + "/client.conf"
        try """
            CVMFS_SERVER_URL=\(server.url)
            CVMFS_HTTP_PROXY=DIRECT
            CVMFS_PUBLIC_KEY=\(keys)/\(Self.fqrn).pub
            CVMFS_CACHE_BASE=\(scratch)/cache
            CVMFS_SHARED_CACHE=no
            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        let configuration = try ClientConfiguration.load(repository: Self.fqrn, configDirectory: scratch,
                                                         explicitFiles: [configFile], environment: ["PATH": "/usr/bin:/bin"])
        let session = try MountSession(configuration: configuration)
        let mounted = try TestMount(core: session.fileSystem)
        defer {
            mounted.unmount()
            #expect(!MountTable.paths().contains(mounted.directory), "no mount left behind")
        }
        let directory = mounted.path("dir")

        // Open descriptors: the kernel holds one lookup count for each entry.
        var descriptors: [Int32] = []
        defer { descriptors.forEach { _ = close($0) } }
        for index in 0..<Self.fileCount {
            let fd = open(directory + "/" + Self.name(index), O_RDONLY)
            #expect(fd >= 0, "open \(Self.name(index)): \(String(cString: strerror(errno)))")
            descriptors.append(fd)
        }
        // One readdir call: the kernel asks for one reply buffer, then the listing is closed.
        let first = try #require(opendir(directory))
        #expect(readdir(first) != nil)
        closedir(first)
        var failures = unusableDescriptors(descriptors)
        #expect(failures.isEmpty, "after a partial listing, \(failures.count) files failed, first: \(failures.prefix(3))")

        let listed = try #require(listNames(directory))
        #expect(listed.count == Self.fileCount + 2, "every entry plus . and ..")
        failures = unusableDescriptors(descriptors)
        #expect(failures.isEmpty, "after a whole listing, \(failures.count) files failed, first: \(failures.prefix(3))")
    }

    /// Asks the daemon about each open file (xattrs are never cached by the
    /// kernel) and reads it; what failed, and why.
    private func unusableDescriptors(_ descriptors: [Int32]) -> [String] {
        var failures: [String] = []
        for (index, fd) in descriptors.enumerated() where fd >= 0 {
            var hash = [UInt8](repeating: 0, count: 128)
            if fgetxattr(fd, "user.hash", &hash, hash.count) < 0 {
                failures.append("\(Self.name(index)): user.hash: \(String(cString: strerror(errno)))")
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 || String(decoding: buffer[0..<max(0, count)], as: UTF8.self) != "content \(index)\n" {
                failures.append("\(Self.name(index)): read \(count) bytes, not its content")
            }
        }
        return failures
    }
}

private func listNames(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        names.append(withUnsafePointer(to: &entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        })
    }
    return names
}
