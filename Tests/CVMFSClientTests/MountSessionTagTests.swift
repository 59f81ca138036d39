import Foundation
import Glibc
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// Mounting a named tag or a date from the history database our publisher
/// writes (docs/format/client-behaviour.md §7, docs/format/repository-layout.md §4.1).
@Suite("MountSession on a tag or a date")
struct MountSessionTagTests {
    /// Three hours ago, so the whitelist signed then is still valid.
    static let first = Int64(time(nil)) / 1000 * 1000 - 10_800


    /// Revisions 1 (tagged `release-1`), 2 and 3, published 1000 s apart; file.txt says which.
    static func publishThree() throws -> PublishedMount {
        let mount = try PublishedMount(label: "tags", configure: { $0.tags = ["release-1"]; $0.now = first }) { root in
            try SourceTreeWriter.write(Array("revision 1\n".utf8), to: root + "/file.txt")
        }
        for revision in 2...3 {
            try SourceTreeWriter.write(Array("revision \(revision)\n".utf8), to: mount.source + "/file.txt")
            var options = mount.options
            options.tags = []
            options.now = first + Int64(revision - 1) * 1000
            #expect(try Publisher(options: options).publish(source: mount.source, output: mount.output).revision == UInt64(revision))
        }
        return mount
    }

    static func content(_ session: MountSession) throws -> String {
        let fs = session.fileSystem
        let entry = try fs.lookup(RepositoryFileSystem.root, "file.txt")
        let opened = try fs.open(entry.inode)
        defer { fs.release(opened.handle) }
        return String(decoding: try fs.read(opened.handle, offset: 0, count: 100), as: UTF8.self)
    }

    @Test("CVMFS_REPOSITORY_TAG mounts the tagged revision, keeps it on remount, and user.tag names it")
    func namedTag() throws {
        let mount = try Self.publishThree()
        defer { mount.close() }
        let session = try MountSession(configuration: try mount.configuration(["CVMFS_REPOSITORY_TAG": "release-1", "CVMFS_CACHE_BASE": mount.scratch + "/cache1"]))
        defer { session.shutDown() }
        #expect(try Self.content(session) == "revision 1\n")
        #expect(session.mountedRevision == 1)
        #expect(try session.fileSystem.xattr(RepositoryFileSystem.root, "user.tag") == "release-1")
        #expect(try session.fileSystem.xattr(RepositoryFileSystem.root, "user.revision") == "1")
        #expect(try session.fileSystem.xattr(RepositoryFileSystem.root, "user.expires") == "never (fixed root catalog)")
        #expect(try session.checkForNewRevision() == .upToDate(revision: 1))
        #expect(try Self.content(session) == "revision 1\n")

        let previous = try MountSession(configuration: try mount.configuration(["CVMFS_REPOSITORY_TAG": "trunk-previous", "CVMFS_CACHE_BASE": mount.scratch + "/cache2"]))
        defer { previous.shutDown() }
        #expect(try Self.content(previous) == "revision 2\n")
    }

    @Test("CVMFS_REPOSITORY_DATE mounts the newest revision published at or before that date")
    func byDate() throws {
        let mount = try Self.publishThree()
        defer { mount.close() }
        // Between revisions 2 and 3.
        let session = try MountSession(configuration: try mount.configuration(["CVMFS_REPOSITORY_DATE": UTCDate.string(Self.first + 1500), "CVMFS_CACHE_BASE": mount.scratch + "/cache3"]))
        defer { session.shutDown() }
        #expect(try Self.content(session) == "revision 2\n")
        #expect(UTCDate.parse("2023-11-14T22:38:20Z") == 1_700_001_500)
        #expect(UTCDate.parse("2023-11-14 22:38:20") == nil)
    }

    @Test("an unknown tag or a malformed date is refused with a message naming it")
    func refusals() throws {
        let mount = try Self.publishThree()
        defer { mount.close() }
        do {
            _ = try MountSession(configuration: try mount.configuration(["CVMFS_REPOSITORY_TAG": "nope", "CVMFS_CACHE_BASE": mount.scratch + "/cache4"]))
            Issue.record("an unknown tag mounted")
        } catch {
            #expect("\(error)".contains("tag 'nope'"), "\(error)")
        }
        do {
            _ = try MountSession(configuration: try mount.configuration(["CVMFS_REPOSITORY_DATE": "yesterday", "CVMFS_CACHE_BASE": mount.scratch + "/cache5"]))
            Issue.record("a malformed date mounted")
        } catch {
            #expect("\(error)".contains("CVMFS_REPOSITORY_DATE=yesterday"), "\(error)")
        }
    }
}
