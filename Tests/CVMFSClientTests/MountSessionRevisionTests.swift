import Foundation
import Glibc
import Synchronization
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// `MountSession` following new revisions (docs/format/client-behaviour.md
/// §7): a second revision published into the served folder is applied
/// without unmounting.
@Suite("MountSession switching revisions, and offline")
struct MountSessionRevisionTests {
    static let old = Array("revision one\n".utf8)
    static let new = Array("revision two, and longer\n".utf8)
    static let stable = Array("never changes\n".utf8)

    static func write(_ root: String) throws {
        try SourceTreeWriter.write(old, to: root + "/changed.txt")
        try SourceTreeWriter.write(stable, to: root + "/stable.txt")
        try SourceTreeWriter.write(Array("goes away\n".utf8), to: root + "/removed.txt")
    }

    /// Revision 2: changed.txt changed, removed.txt gone, added.txt new.
    static func change(_ mount: PublishedMount, now: Int64? = nil) throws {
        try SourceTreeWriter.write(new, to: mount.source + "/changed.txt")
        try FileManager.default.removeItem(atPath: mount.source + "/removed.txt")
        try SourceTreeWriter.write(Array("new here\n".utf8), to: mount.source + "/added.txt")
        #expect(try mount.publishAgain(now: now).revision == 2)
    }

    @Test("after a switch new lookups see revision 2, while a file opened before keeps reading revision 1")
    func switchKeepsOpenFiles() throws {
        let mount = try PublishedMount(label: "revision-switch", tree: Self.write)
        defer { mount.close() }
        let session = mount.session
        let fs = mount.fileSystem
        let root = RepositoryFileSystem.root
        #expect(session.manifest.revision == 1)
        #expect(try session.checkForNewRevision() == .upToDate(revision: 1), "nothing new published yet")

        let before = try fs.lookup(root, "changed.txt")
        let opened = try fs.open(before.inode)
        defer { fs.release(opened.handle) }
        #expect(try fs.read(opened.handle, offset: 0, count: 7) == Array(Self.old[..<7]))
        let removed = try fs.lookup(root, "removed.txt")
        #expect(fileSystemError { try fs.lookup(root, "added.txt") } == .notFound, "a miss, remembered")
        let limit = fs.tree.inodeLimit

        try Self.change(mount)
        #expect(try session.checkForNewRevision() == .switched(from: 1, to: 2))
        #expect(session.manifest.revision == 2)
        #expect(session.manifest.rootCatalog == mount.report.rootCatalog)
        #expect(mount.session.fileSystem === fs, "the same file system serves the new revision")
        #expect(try fs.xattr(root, "user.revision") == "2")
        #expect(try fs.xattr(root, "user.root_hash") == mount.report.rootCatalog.description)

        // New lookups: the new content, under a new inode past every old one.
        let after = try fs.lookup(root, "changed.txt")
        #expect(after.inode != before.inode)
        #expect(after.inode >= limit)
        #expect(after.size == UInt64(Self.new.count))
        #expect(try fs.contents(of: after.inode) == Self.new)
        #expect(try fs.contents(of: try fs.lookup(root, "added.txt").inode) == Array("new here\n".utf8), "the old miss is forgotten")
        #expect(fileSystemError { try fs.lookup(root, "removed.txt") } == .notFound)
        #expect(try fs.contents(of: try fs.lookup(root, "stable.txt").inode) == Self.stable)
        #expect(try fs.listNames(root).dropFirst(2).sorted() == ["added.txt", "changed.txt", "stable.txt"])

        // The handle opened before the switch, and the inodes the kernel still holds, stay on revision 1.
        #expect(try fs.readToEnd(opened.handle) == Self.old)
        #expect(try fs.getattr(before.inode).size == UInt64(Self.old.count))
        #expect(try fs.contents(of: removed.inode) == Array("goes away\n".utf8))
        let reopened = try fs.open(before.inode)
        #expect(try fs.readToEnd(reopened.handle) == Self.old)
        fs.release(reopened.handle)

        #expect(try session.checkForNewRevision() == .upToDate(revision: 2))
        #expect(!session.isOffline)
    }

    @Test("an old revision's catalog stays pinned while an inode or an open file of it is held, and is unpinned and closed when the last goes")
    func oldCatalogsAreReleased() throws {
        let mount = try PublishedMount(label: "revision-release", tree: Self.write)
        defer { mount.close() }
        let session = mount.session
        let fs = mount.fileSystem
        let root = RepositoryFileSystem.root
        let first = session.manifest.rootCatalog
        func pinnedCatalogs() -> Set<ContentHash> {
            Set(session.cache.list().filter { $0.pinned && $0.kind == .catalog }.map(\.hash))
        }
        #expect(pinnedCatalogs() == [first])

        let held = try fs.lookup(root, "changed.txt")
        let stable = try fs.lookup(root, "stable.txt")
        let opened = try fs.open(stable.inode)
        try Self.change(mount)
        #expect(try session.checkForNewRevision() == .switched(from: 1, to: 2))
        let second = session.manifest.rootCatalog
        #expect(pinnedCatalogs() == [first, second], "revision 1's catalog is still in use")
        #expect(session.answer("internal affairs").contains("catalogs.open: 2 "))

        // The kernel forgets the inode; the open file still reads revision 1.
        fs.forget(held.inode, count: 1)
        #expect(pinnedCatalogs() == [first, second])
        #expect(try fs.readToEnd(opened.handle) == Self.stable)
        // stable.txt's own inode is still held by the kernel's lookup, then it goes too.
        fs.release(opened.handle)
        #expect(pinnedCatalogs() == [first, second])
        fs.forget(stable.inode, count: 1)
        #expect(pinnedCatalogs() == [second], "nothing of revision 1 is held any more")
        #expect(session.answer("internal affairs").contains("catalogs.open: 1 "))
        #expect(try fs.contents(of: try fs.lookup(root, "changed.txt").inode) == Self.new)
    }

    @Test("names the kernel cached as missing are invalidated at a switch with the cached entries, once each")
    func missesAreTakenBack() throws {
        let mount = try PublishedMount(label: "revision-misses", tree: Self.write)
        defer { mount.close() }
        let fs = mount.fileSystem
        let root = RepositoryFileSystem.root
        let invalidated = Mutex<[[UInt8]]>([])
        mount.session.setKernelInvalidator { entries in invalidated.withLock { $0 += entries.map(\.name) } }
        for _ in 0..<3 { #expect(fileSystemError { try fs.lookup(root, "added.txt") } == .notFound) }
        _ = try fs.lookup(root, "stable.txt")
        try Self.change(mount)
        #expect(try mount.session.checkForNewRevision() == .switched(from: 1, to: 2))
        #expect(invalidated.withLock { $0 }.sorted { $0.lexicographicallyPrecedes($1) } == [Array("added.txt".utf8), Array("stable.txt".utf8)])
        #expect(try fs.contents(of: try fs.lookup(root, "added.txt").inode) == Array("new here\n".utf8))
    }

    @Test("a nested catalog an old revision attaches after a switch gets inodes no entry of the new revision has")
    func lateAttachDoesNotClash() throws {
        let mount = try PublishedMount(label: "revision-inodes") { root in
            try Self.write(root)
            try SourceTreeWriter.directory(root + "/big")
            try SourceTreeWriter.write([], to: root + "/big/.cvmfscatalog")
            for index in 0..<300 { try SourceTreeWriter.write(Array("\(index)\n".utf8), to: root + "/big/f\(index)") }
        }
        defer { mount.close() }
        let fs = mount.fileSystem
        let old = fs.tree
        try Self.change(mount)
        #expect(try mount.session.checkForNewRevision() == .switched(from: 1, to: 2))
        let new = fs.tree
        let newRoot = new.root
        // A lookup that took the old tree before the switch attaches /big there only now.
        let late = try old.catalog(for: Array("/big/f1".utf8), includeExact: false)
        #expect(late.mountpoint == "/big")
        let lateInodes = late.inodeOffset + 1...late.inodeOffset + UInt64(late.catalog.maxRowID)
        let newInodes = newRoot.inodeOffset + 1...newRoot.inodeOffset + UInt64(newRoot.catalog.maxRowID)
        #expect(!lateInodes.overlaps(newInodes), "old /big \(lateInodes) against the new root \(newInodes)")
        let attachedNew = try new.catalog(for: Array("/big/f1".utf8), includeExact: false)
        #expect(!(attachedNew.inodeOffset + 1...attachedNew.inodeOffset + UInt64(attachedNew.catalog.maxRowID)).overlaps(lateInodes))
        #expect(fs.tree.inodeLimit > late.inodeOffset + UInt64(late.catalog.maxRowID))
    }

    @Test("the talk command remount applies a new revision, and says so")
    func talkRemount() throws {
        let mount = try PublishedMount(label: "revision-talk", tree: Self.write)
        defer { mount.close() }
        let session = mount.session
        #expect(session.answer("remount") == "Catalog up to date")
        try Self.change(mount)
        #expect(session.answer("revision") == "1", "nothing switches before it is asked to")
        #expect(session.answer("remount sync") == "New revision applied")
        #expect(session.answer("revision") == "2")
        #expect(session.answer("remount") == "Catalog up to date")
        #expect(try mount.fileSystem.contents(of: try mount.fileSystem.lookup(RepositoryFileSystem.root, "changed.txt").inode) == Self.new)
    }

    @Test("an older manifest served again is refused as a replay, and the mount stays on its revision")
    func replayIsRefused() throws {
        let now = Int64(time(nil))
        let mount = try PublishedMount(label: "revision-replay", configure: { $0.now = now - 60 }, tree: Self.write)
        defer { mount.close() }
        let session = mount.session
        let manifest = mount.output + "/.cvmfspublished"
        let first = try Data(contentsOf: URL(fileURLWithPath: manifest))
        try Self.change(mount, now: now)
        let second = try Data(contentsOf: URL(fileURLWithPath: manifest))
        #expect(try session.checkForNewRevision() == .switched(from: 1, to: 2))
        // The server goes back to revision 1's manifest (a stale mirror, or an attacker).
        try first.write(to: URL(fileURLWithPath: manifest))
        #expect(throws: MountError.self) { try session.checkForNewRevision() }
        #expect(session.isOffline, "the failed check is remembered (the next one comes sooner)")
        #expect(session.manifest.revision == 2)
        #expect(try mount.fileSystem.contents(of: try mount.fileSystem.lookup(RepositoryFileSystem.root, "changed.txt").inode) == Self.new)
        // Once the server is current again, so is the mount.
        try second.write(to: URL(fileURLWithPath: manifest))
        #expect(try session.checkForNewRevision() == .upToDate(revision: 2))
        #expect(!session.isOffline)
    }

    @Test("a new revision whose root catalog does not verify is not applied; once it is served intact, it is")
    func damagedNewRootCatalog() throws {
        let mount = try PublishedMount(label: "revision-damaged", tree: Self.write)
        defer { mount.close() }
        let session = mount.session
        try Self.change(mount)
        let served = mount.servedObject(mount.report.rootCatalog, suffix: .catalog)
        let intact = try Data(contentsOf: URL(fileURLWithPath: served))
        var damaged = [UInt8](intact)
        damaged[damaged.count / 2] ^= 0xFF
        try Data(damaged).write(to: URL(fileURLWithPath: served))

        #expect(throws: MountError.self) { try session.checkForNewRevision() }
        #expect(session.manifest.revision == 1)
        #expect(session.isOffline)
        let fs = mount.fileSystem
        #expect(try fs.contents(of: try fs.lookup(RepositoryFileSystem.root, "changed.txt").inode) == Self.old)
        #expect(try fs.lookup(RepositoryFileSystem.root, "removed.txt").isRegular)

        try intact.write(to: URL(fileURLWithPath: served))
        #expect(try session.checkForNewRevision() == .switched(from: 1, to: 2))
        #expect(!session.isOffline)
        #expect(try fs.contents(of: try fs.lookup(RepositoryFileSystem.root, "changed.txt").inode) == Self.new)
    }

    @Test("with the server gone, a new mount on a copy of the cache mounts the revision it recorded, offline")
    func offlineMountFromTheBreadcrumb() throws {
        let mount = try PublishedMount(label: "revision-offline", tree: Self.write)
        defer { mount.close() }
        try Self.change(mount)
        #expect(try mount.session.checkForNewRevision() == .switched(from: 1, to: 2))
        let fs = mount.fileSystem
        #expect(try fs.contents(of: try fs.lookup(RepositoryFileSystem.root, "changed.txt").inode) == Self.new)
        // The first mount ends (its cache stays private to it: the next one gets a copy).
        mount.session.shutDown()
        let copy = mount.scratch + "/cache-copy"
        try FileManager.default.copyItem(atPath: mount.scratch + "/cache", toPath: copy)
        mount.stopServer()
        // No retries: a refused connection would otherwise be retried after a backoff of seconds.
        let offline = try MountSession(configuration: try mount.configuration(["CVMFS_CACHE_BASE": copy, "CVMFS_MAX_RETRIES": "0"]))
        defer { offline.shutDown() }
        #expect(offline.isOffline)
        #expect(offline.manifest.revision == 2, "the revision the breadcrumb names")
        #expect(offline.manifest.rootCatalog == mount.report.rootCatalog)
        let ofs = offline.fileSystem
        #expect(try ofs.contents(of: try ofs.lookup(RepositoryFileSystem.root, "changed.txt").inode) == Self.new, "cached: it reads")
        switch fileSystemError({ try ofs.contents(of: try ofs.lookup(RepositoryFileSystem.root, "added.txt").inode) }) {
        case .object?: break
        case let other: Issue.record("a file never read before cannot be fetched offline: expected an object error, got \(String(describing: other))")
        }
        #expect(throws: MountError.self) { try offline.checkForNewRevision() }
        #expect(offline.manifest.revision == 2)
    }

    @Test("with the server gone and no cache, the mount fails")
    func noServerNoCache() throws {
        let mount = try PublishedMount(label: "revision-nocache", tree: Self.write)
        defer { mount.close() }
        mount.stopServer()
        #expect(throws: MountError.self) {
            _ = try MountSession(configuration: try mount.configuration(["CVMFS_CACHE_BASE": mount.scratch + "/empty-cache", "CVMFS_MAX_RETRIES": "0"]))
        }
    }
}
