import Foundation
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// `CVMFS_BLACKLIST` on a mounted repository (docs/format/manifest-and-signatures.md §4):
/// read at mount and again at every revision check.
@Suite("MountSession and the site blacklist")
struct MountSessionBlacklistTests {
    static func write(_ root: String) throws {
        try SourceTreeWriter.write(Array("one\n".utf8), to: root + "/file.txt")
    }

    @Test("a blacklist written while mounted refuses the next revision below its minimum, the mount stays; a revision at the minimum is applied")
    func revisionMinimum() throws {
        let blacklist = try ProcessSupport.makeTemporaryDirectory("blacklist") + "/blacklist"
        defer { try? FileManager.default.removeItem(atPath: (blacklist as NSString).deletingLastPathComponent) }
        let mount = try PublishedMount(label: "blacklist-revision", parameters: ["CVMFS_BLACKLIST": blacklist], tree: Self.write)
        defer { mount.close() }
        #expect(mount.session.manifest.revision == 1, "no blacklist file: nothing refused")

        try "<\(mount.fqrn) 3\n".write(toFile: blacklist, atomically: true, encoding: .utf8)
        try SourceTreeWriter.write(Array("two\n".utf8), to: mount.source + "/file.txt")
        #expect(try mount.publishAgain().revision == 2)
        #expect(throws: MountError.self) { try mount.session.checkForNewRevision() }
        #expect(mount.session.manifest.revision == 1)
        #expect(mount.session.answer("internal affairs").contains("revision 2 of \(mount.fqrn) is blacklisted"))
        #expect(try mount.fileSystem.contents(of: try mount.fileSystem.lookup(path: "file.txt").inode) == Array("one\n".utf8))

        try SourceTreeWriter.write(Array("three\n".utf8), to: mount.source + "/file.txt")
        #expect(try mount.publishAgain(now: Int64(time(nil)) + 1).revision == 3)
        #expect(try mount.session.checkForNewRevision() == .switched(from: 1, to: 3))
    }

    @Test("a mount is refused when the blacklist names its certificate, or exists but cannot be read")
    func certificateAndUnreadable() throws {
        let folder = try ProcessSupport.makeTemporaryDirectory("blacklist-cert")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mount = try PublishedMount(label: "blacklist-cert", tree: Self.write)
        defer { mount.close() }
        let keys = try RepositoryKeys(directory: mount.keys, fqrn: mount.fqrn)
        let line = Whitelist.fingerprintLine(keys.certificate.fingerprint(algorithm: .sha1))
        try "\(line)\n".write(toFile: folder + "/blacklist", atomically: true, encoding: .utf8)
        var refusal = ""
        do { _ = try MountSession(configuration: try mount.configuration(["CVMFS_BLACKLIST": folder + "/blacklist", "CVMFS_CACHE_BASE": folder + "/cache"])) } catch {
            refusal = "\(error)"
        }
        #expect(refusal.contains("is blacklisted"), "refused as: \(refusal)")
        #expect(refusal.contains(line))

        // A folder where the file should be: it exists but cannot be read as a blacklist.
        try FileManager.default.createDirectory(atPath: folder + "/unreadable", withIntermediateDirectories: true)
        refusal = ""
        do { _ = try MountSession(configuration: try mount.configuration(["CVMFS_BLACKLIST": folder + "/unreadable"])) } catch {
            refusal = "\(error)"
        }
        #expect(refusal.contains("cannot read the blacklist \(folder)/unreadable"), "refused as: \(refusal)")
    }
}
