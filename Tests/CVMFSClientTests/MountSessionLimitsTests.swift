import Foundation
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSTestSupport

/// Parameters that bound what a mount uses: `CVMFS_MAX_SERVERS` and the open-file budget.
@Suite("MountSession limits")
struct MountSessionLimitsTests {
    @Test("CVMFS_MAX_SERVERS keeps only the first hosts of CVMFS_SERVER_URL; the mount reads from them")
    func maxServers() throws {
        let mount = try PublishedMount.sample("limits-hosts")
        defer { mount.close() }
        let cache = try ProcessSupport.makeTemporaryDirectory("limits-hosts-cache")
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let hosts = [mount.server.url, "http://127.0.0.1:9/two", "http://127.0.0.1:9/three"]
        // Quoted: the configuration file is shell, where ';' would end the assignment.
        let session = try MountSession(configuration: try mount.configuration([
            "CVMFS_SERVER_URL": "'" + hosts.joined(separator: ";") + "'", "CVMFS_MAX_SERVERS": "2", "CVMFS_CACHE_BASE": cache,
        ]))
        defer { session.shutDown() }
        let root = RepositoryFileSystem.root
        let listed = try session.fileSystem.xattr(root, "user.host_list")
        #expect(listed == hosts.prefix(2).joined(separator: ";"), "host_list: \(listed)")
        #expect(try session.fileSystem.xattr(root, "user.maxfd") == String(OpenFileLimit.openFileBudget))
        #expect(OpenFileLimit.openFileBudget < OpenFileLimit.current, "a reserve is kept for the daemon's own descriptors")
    }
}
