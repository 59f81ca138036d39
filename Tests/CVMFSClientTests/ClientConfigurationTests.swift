import Foundation
import Testing
@testable import CVMFSClient

@Suite("Typed client configuration")
struct ClientConfigurationTests {
    let minimal = "CVMFS_SERVER_URL='http://a/cvmfs/@fqrn@;http://b/cvmfs/@fqrn@'\nCVMFS_HTTP_PROXY=DIRECT\n"

    func load(_ dir: TemporaryConfigDirectory, _ repo: String) throws -> ClientConfiguration {
        try ClientConfiguration.load(repository: repo, configDirectory: dir.path, environment: testEnvironment)
    }

    @Test("binary defaults apply when nothing is set")
    func defaults() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", minimal)
        let c = try load(dir, "atlas.cern.ch")
        #expect(c.serverURLs == ["http://a/cvmfs/atlas.cern.ch", "http://b/cvmfs/atlas.cern.ch"])
        #expect(c.httpProxy == "DIRECT")
        #expect(c.fallbackProxy == nil)
        #expect(c.cacheBase == "/var/lib/cvmfs")
        #expect(!c.sharedCache)
        #expect(c.cacheDirectory == "/var/lib/cvmfs/atlas.cern.ch")
        #expect(c.quotaLimitMB == 1024)
        #expect(c.kcacheTimeout == 60)
        #expect(c.timeout == 5 && c.timeoutDirect == 5)
        #expect(c.maxRetries == 1 && c.backoffInitSeconds == 2 && c.backoffMaxSeconds == 10)
        #expect(c.autoUpdate)
        #expect(c.magicXattrsVisibility == .rootOnly)
        #expect(c.memcacheSizeMB == 16)
    }

    @Test("values are typed; negative kcache timeout becomes 0; shared cache dir")
    func typed() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", minimal + """
            CVMFS_SHARED_CACHE=On
            CVMFS_CACHE_BASE=/srv/cache
            CVMFS_QUOTA_LIMIT=-1
            CVMFS_KCACHE_TIMEOUT=-5
            CVMFS_TIMEOUT_DIRECT=10
            CVMFS_ROOT_HASH=abc
            CVMFS_MAGIC_XATTRS_VISIBILITY=Always
            CVMFS_REPOSITORIES=atlas,cms.cern.ch
            CVMFS_DEFAULT_DOMAIN=cern.ch
            CVMFS_SOMETHING_NEW=1
            """)
        let c = try load(dir, "atlas")
        #expect(c.fqrn == "atlas.cern.ch")
        #expect(c.sharedCache)
        #expect(c.cacheDirectory == "/srv/cache/shared")
        #expect(!c.isQuotaManaged)
        #expect(c.kcacheTimeout == 0)
        #expect(c.timeoutDirect == 10)
        #expect(!c.autoUpdate)
        #expect(c.magicXattrsVisibility == .always)
        #expect(c.repositories == ["atlas.cern.ch", "cms.cern.ch"])
        #expect(c.unknownParameterNames == ["CVMFS_SOMETHING_NEW"])
        #expect(c.allParameters.contains { $0.name == "CVMFS_SOMETHING_NEW" && $0.source == dir.path + "/default.conf" })
    }

    @Test("a missing CVMFS_HTTP_PROXY is an error naming the key")
    func missingProxy() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", "CVMFS_SERVER_URL=http://a/cvmfs/@fqrn@\nCVMFS_HTTP_PROXY=\n")
        let error = #expect(throws: ConfigurationError.self) { try load(dir, "atlas.cern.ch") }
        #expect(error == .missingParameter(key: "CVMFS_HTTP_PROXY", files: [dir.path + "/default.conf"]))
        #expect(error!.description.contains("CVMFS_HTTP_PROXY"))
    }

    @Test("an invalid value names the key and the file")
    func invalidValue() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", minimal)
        let local = try dir.write("default.local", "CVMFS_TIMEOUT=soon\n")
        let error = #expect(throws: ConfigurationError.self) { try load(dir, "atlas.cern.ch") }
        guard case let .invalidValue(key, value, file, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(key == "CVMFS_TIMEOUT" && value == "soon" && file == local)
    }

    @Test("CVMFS_CACHE_DIR together with CVMFS_CACHE_BASE is refused")
    func cacheDirConflict() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", minimal + "CVMFS_CACHE_BASE=/a\nCVMFS_CACHE_DIR=/b\n")
        #expect(throws: ConfigurationError.self) { try load(dir, "atlas.cern.ch") }
        try dir.write("default.local", "CVMFS_CACHE_BASE=\n")
        #expect(try load(dir, "atlas.cern.ch").cacheDirectory == "/b")
    }

    @Test("public keys: CVMFS_PUBLIC_KEY, else CVMFS_KEYS_DIR, else <config>/keys; not recursive")
    func publicKeys() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", minimal)
        try dir.write("keys/top.pub", "k")
        try dir.write("keys/sub/nested.pub", "k")
        try dir.write("other/b.pub", "k")
        try dir.write("other/a.pub", "k")
        try dir.write("other/readme.txt", "")
        #expect(try load(dir, "atlas.cern.ch").publicKeyPaths == [dir.path + "/keys/top.pub"])
        try dir.write("default.local", "CVMFS_KEYS_DIR=\(dir.path)/other\n")
        #expect(try load(dir, "atlas.cern.ch").publicKeyPaths == [dir.path + "/other/a.pub", dir.path + "/other/b.pub"])
        try dir.write("config.d/atlas.cern.ch.local", "CVMFS_PUBLIC_KEY=/x/one.pub:/y/two.pub\n")
        #expect(try load(dir, "atlas.cern.ch").publicKeyPaths == ["/x/one.pub", "/y/two.pub"])
    }

    @Test("strict mount needs the repository in CVMFS_REPOSITORIES")
    func strictMount() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", minimal + "CVMFS_STRICT_MOUNT=yes\nCVMFS_REPOSITORIES=cms.cern.ch\n")
        #expect(throws: ConfigurationError.self) { try load(dir, "atlas.cern.ch").checkStrictMount() }
        try load(dir, "cms.cern.ch").checkStrictMount()
    }

    @Test("the shipped cern.ch domain file gives the stratum 1 list and the keys dir")
    func shippedCernDomain() throws {
        let shipped = packageRoot + "/mountconfig"
        // The standard chain of the shipped directory has no proxy (sites set it in default.local).
        let noProxy = #expect(throws: ConfigurationError.self) {
            try ClientConfiguration.load(repository: "atlas", configDirectory: shipped, environment: testEnvironment)
        }
        guard case .missingParameter(key: "CVMFS_HTTP_PROXY", _) = noProxy else { Issue.record("\(String(describing: noProxy))"); return }
        let dir = try TemporaryConfigDirectory()
        let proxy = try dir.write("default.local", "CVMFS_HTTP_PROXY=DIRECT\n")
        let c = try ClientConfiguration.load(repository: "atlas", configDirectory: shipped,
                                             explicitFiles: [shipped + "/default.conf", shipped + "/default.d/50-cern.conf",
                                                             proxy, shipped + "/domain.d/cern.ch.conf"],
                                             environment: testEnvironment)
        #expect(c.fqrn == "atlas.cern.ch")
        #expect(c.serverURLs.first == "http://cvmfs-stratum-one.cern.ch/cvmfs/atlas.cern.ch")
        #expect(c.serverURLs.contains("http://cvmfs-s1fnal.opensciencegrid.org/cvmfs/atlas.cern.ch"))
        #expect(c.parameters["CVMFS_KEYS_DIR"] == "/etc/cvmfs/keys/cern.ch")
        #expect(c.parameters.source(of: "CVMFS_SERVER_URL") == shipped + "/domain.d/cern.ch.conf")
        #expect(c.useGeoAPI)
        #expect(c.quotaLimitMB == 4000 && c.timeoutDirect == 10 && c.sharedCache)
        #expect(c.user == "cvmfs" && c.mountDirectory == "/cvmfs")
        // With the CDN switch the domain file picks the openhtc.io hosts.
        try dir.write("cdn.conf", "CVMFS_USE_CDN=yes\nCVMFS_HTTP_PROXY=DIRECT\n")
        let cdn = try ClientConfiguration.load(repository: "atlas.cern.ch", configDirectory: shipped,
                                               explicitFiles: [shipped + "/default.conf", dir.path + "/cdn.conf",
                                                               shipped + "/domain.d/cern.ch.conf"],
                                               environment: testEnvironment)
        #expect(cdn.serverURLs.first == "http://s1cern-cvmfs.openhtc.io/cvmfs/atlas.cern.ch")
    }

    @Test("variant environment: parameters override the process environment; FQRN and ARCH set")
    func variantEnvironment() throws {
        let parameters = ConfigurationParameters([
            ConfigurationParameter(name: "CVMFS_X", value: "param", source: "f"),
        ])
        let env = VariantEnvironment(parameters: parameters, fqrn: "a.b",
                                     processEnvironment: ["CVMFS_X": "env", "HOME": "/root"], architecture: "x86_64")
        #expect(env.value(of: "CVMFS_X") == "param")
        #expect(env.value(of: "HOME") == "/root")
        #expect(env.lookup("CVMFS_FQRN") == "a.b")
        #expect(env.lookup("CVMFS_ARCH") == "x86_64")
        #expect(!VariantEnvironment.machine().isEmpty)
    }
}
