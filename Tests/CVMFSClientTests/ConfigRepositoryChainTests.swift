import Foundation
@testable import CVMFSClient
import Synchronization
import Testing

/// A configuration repository is a mounted folder by the time the chain reads it, so these
/// tests give the chain a folder laid out like one (`<mount dir>/<fqrn>/etc/cvmfs`).
@Suite("Configuration repository in the chain")
struct ConfigRepositoryChainTests {
    /// The local directory names `cfg.test.local` as configuration repository under `<dir>/mnt`.
    static func site(_ dir: TemporaryConfigDirectory, required: Bool = false) throws -> String {
        try dir.write("local/default.conf", "CVMFS_HTTP_PROXY=DIRECT\nCVMFS_MOUNT_DIR=\(dir.path)/mnt\n")
        try dir.write("local/default.d/60-site.conf", "CVMFS_CONFIG_REPOSITORY=cfg.test.local\n"
                      + (required ? "CVMFS_CONFIG_REPO_REQUIRED=yes\n" : ""))
        try dir.write("local/default.local", "CVMFS_QUOTA_LIMIT=500\n")
        try dir.write("local/domain.d/test.local.local", "CVMFS_KCACHE_TIMEOUT=7\n")
        return dir.path + "/local"
    }

    static func configRepository(_ dir: TemporaryConfigDirectory) throws -> String {
        let etc = "mnt/cfg.test.local/etc/cvmfs"
        try dir.write(etc + "/default.conf", "CVMFS_CONFIG_REPO_DEFAULT_ENV=1\nCVMFS_CONFIG_REPOSITORY=elsewhere.test.local\nCVMFS_QUOTA_LIMIT=100\n")
        try dir.write(etc + "/domain.d/test.local.conf", """
            CVMFS_SERVER_URL="http://s1.test.local/cvmfs/@fqrn@"
            CVMFS_KEYS_DIR=\(dir.path)/\(etc)/keys/test.local
            CVMFS_KCACHE_TIMEOUT=3
            """)
        try dir.write(etc + "/config.d/data.test.local.conf", "CVMFS_MAX_RETRIES=4\n")
        return dir.path + "/" + etc
    }

    @Test("its files come before the local file of each step, in upstream's order; not for itself")
    func order() throws {
        let dir = try TemporaryConfigDirectory()
        let local = try Self.site(dir)
        let chain = ConfigurationChain(repository: try RepositoryName(validating: "data.test.local"), directory: local,
                                       configRepository: "/X/etc/cvmfs", environment: testEnvironment)
        #expect(chain.files.map(\.path) == [
            local + "/default.conf", local + "/default.d/60-site.conf", "/X/etc/cvmfs/default.conf", local + "/default.local",
            "/X/etc/cvmfs/domain.d/test.local.conf", local + "/domain.d/test.local.conf", local + "/domain.d/test.local.local",
            "/X/etc/cvmfs/config.d/data.test.local.conf", local + "/config.d/data.test.local.conf",
            local + "/config.d/data.test.local.local",
        ])
        let own = try ClientConfiguration.loadParameters(repository: "cfg.test.local", configDirectory: local, environment: testEnvironment)
        #expect(!own.parameters.files.contains { $0.contains("/mnt/") })
    }

    @Test("it supplies the server and keys; local files override it; it cannot change CVMFS_CONFIG_REPOSITORY")
    func precedence() throws {
        let dir = try TemporaryConfigDirectory()
        let local = try Self.site(dir)
        let etc = try Self.configRepository(dir)
        let asked = Mutex<[String]>([])
        let loaded = try ClientConfiguration.loadParameters(
            repository: "data.test.local", configDirectory: local,
            mounter: { fqrn, mountpoint in asked.withLock { $0.append("\(fqrn) \(mountpoint)") }; return nil },
            environment: testEnvironment)
        let p = loaded.parameters
        #expect(asked.withLock { $0 } == ["cfg.test.local \(dir.path)/mnt/cfg.test.local"])
        #expect(p["CVMFS_SERVER_URL"] == "http://s1.test.local/cvmfs/data.test.local")
        #expect(p.source(of: "CVMFS_SERVER_URL") == etc + "/domain.d/test.local.conf")
        #expect(p["CVMFS_MAX_RETRIES"] == "4")
        #expect(p["CVMFS_QUOTA_LIMIT"] == "500" && p.source(of: "CVMFS_QUOTA_LIMIT") == local + "/default.local")
        #expect(p["CVMFS_KCACHE_TIMEOUT"] == "7")
        #expect(p["CVMFS_CONFIG_REPO_DEFAULT_ENV"] == "1")
        #expect(p["CVMFS_CONFIG_REPOSITORY"] == "cfg.test.local")
        #expect(p.warnings.contains { $0.contains("protected CVMFS_CONFIG_REPOSITORY") })
    }

    @Test("unavailable: a note and the local chain only; with CVMFS_CONFIG_REPO_REQUIRED=yes a refusal that says why")
    func unavailable() throws {
        let dir = try TemporaryConfigDirectory()
        let local = try Self.site(dir)
        let loaded = try ClientConfiguration.loadParameters(
            repository: "data.test.local", configDirectory: local, mounter: { _, _ in "the server is down" }, environment: testEnvironment)
        #expect(loaded.parameters["CVMFS_SERVER_URL"] == nil)
        #expect(loaded.parameters.warnings.first?.contains("cfg.test.local is not available") == true)
        #expect(loaded.parameters.warnings.first?.contains("the server is down") == true)

        let strict = try TemporaryConfigDirectory()
        let strictLocal = try Self.site(strict, required: true)
        #expect(throws: ConfigurationError.configRepositoryUnavailable(
            fqrn: "cfg.test.local", mountpoint: strict.path + "/mnt/cfg.test.local", reason: "the server is down")) {
            try ClientConfiguration.loadParameters(repository: "data.test.local", configDirectory: strictLocal,
                                                   mounter: { _, _ in "the server is down" }, environment: testEnvironment)
        }
        // Mounted but without etc/cvmfs: not a configuration repository.
        #expect {
            try ClientConfiguration.loadParameters(repository: "data.test.local", configDirectory: strictLocal,
                                                   mounter: { _, _ in nil }, environment: testEnvironment)
        } throws: { "\($0)".contains("etc/cvmfs does not exist") && "\($0)".contains("CVMFS_CONFIG_REPO_REQUIRED") }
    }
}
