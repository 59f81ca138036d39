import Foundation
import Testing
@testable import CVMFSClient

@Suite("Repository names and mount scripts")
struct ConfigRepositoryNameTests {
    @Test("sanitizing follows mount.cvmfs")
    func sanitize() throws {
        #expect(try RepositoryName.sanitize("atlas", defaultDomain: "cern.ch").fqrn == "atlas.cern.ch")
        #expect(try RepositoryName.sanitize("/cvmfs/cms.cern.ch", defaultDomain: "cern.ch").fqrn == "cms.cern.ch")
        #expect(try RepositoryName.sanitize("/cvmfs/lhcb/", defaultDomain: "cern.ch").fqrn == "lhcb.cern.ch")
        #expect(try RepositoryName.sanitize("sft.cern.ch", defaultDomain: nil).fqrn == "sft.cern.ch")
        #expect(try RepositoryName.sanitize("a_b-c.example.org", defaultDomain: nil).org == "a_b-c")
        #expect(try RepositoryName.sanitize("a.example.org", defaultDomain: nil).domain == "example.org")
        #expect(throws: ConfigurationError.self) { try RepositoryName.sanitize("atlas", defaultDomain: nil) }
        #expect(throws: ConfigurationError.self) { try RepositoryName.sanitize("", defaultDomain: "cern.ch") }
        #expect(throws: ConfigurationError.self) { try RepositoryName.sanitize("a b.cern.ch", defaultDomain: nil) }
        #expect(throws: ConfigurationError.self) { try RepositoryName.sanitize("a;rm.cern.ch", defaultDomain: nil) }
        #expect(throws: ConfigurationError.self) {
            try RepositoryName.sanitize(String(repeating: "a", count: 61), defaultDomain: "cern.ch")
        }
        #expect(try RepositoryName.sanitize(String(repeating: "a", count: 60), defaultDomain: "x").fqrn.count == 62)
    }

    func run(_ script: String, _ arguments: [String], environment: [String: String] = testEnvironment) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [packageRoot + "/mountconfig/" + script] + arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("auto.cvmfs accepts repository keys", arguments: ["atlas.cern.ch", "a_b-c.d", "9x.org"])
    func autoAccepts(key: String) throws {
        let (status, output) = try run("auto.cvmfs", [key])
        #expect(status == 0)
        #expect(output == "-fstype=cvmfs :\(key)\n")
    }

    @Test("auto.cvmfs rejects keys that cannot be repositories",
          arguments: ["", "atlas", ".cern.ch", "-a.cern.ch", "atlas.cern.ch.", "a b.ch", "a/b.ch", "a$b.ch"])
    func autoRejects(key: String) throws {
        let (status, output) = try run("auto.cvmfs", [key])
        #expect(status == 1)
        #expect(output.isEmpty)
    }

    @Test("mount.cvmfs validates the name and hands over to the binary")
    func mountHelper() throws {
        var env = testEnvironment
        env["CVMFS_SWIFT_BIN"] = "/bin/echo"
        let (status, output) = try run("mount.cvmfs", ["/cvmfs/atlas.cern.ch", "/mnt/x", "-o", "ro", "-f"], environment: env)
        #expect(status == 0)
        #expect(output == "/bin/echo mount atlas.cern.ch /mnt/x -o ro\n")
        #expect(try run("mount.cvmfs", ["bad name", "/mnt/x"], environment: env).0 == 1)
        #expect(try run("mount.cvmfs", ["only-one"], environment: env).0 == 1)
        env["CVMFS_SWIFT_BIN"] = "/bin/false"
        #expect(try run("mount.cvmfs", ["atlas", "/mnt/x"], environment: env).0 == 1)
    }

    @Test("install.sh installs under a prefix and keeps *.local files")
    func install() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("etc/cvmfs/default.local", "KEEP=1\n")
        let (status, _) = try run("install.sh", ["--prefix", dir.path])
        #expect(status == 0)
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: dir.path + "/etc/cvmfs/domain.d/cern.ch.conf"))
        #expect(fm.fileExists(atPath: dir.path + "/etc/cvmfs/keys/cern.ch/cern-it1.cern.ch.pub"))
        #expect(fm.isExecutableFile(atPath: dir.path + "/sbin/mount.cvmfs"))
        #expect(fm.isExecutableFile(atPath: dir.path + "/etc/auto.cvmfs"))
        #expect(try String(contentsOfFile: dir.path + "/etc/cvmfs/default.local", encoding: .utf8) == "KEEP=1\n")
    }
}
